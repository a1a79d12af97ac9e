package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDataDir holds pink dev's data dir for this process, so that a second
// pink dev on the same dir fails at once with who holds it, instead of
// waiting forever on the embedded etcd's database lock. The lock is the
// kernel's (flock): it ends with the process, however that ends.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, "pink-dev.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another pink dev"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(holder))); perr == nil {
				who += fmt.Sprintf(" (pid %d)", pid)
			}
			return nil, fmt.Errorf("data dir %s is in use by %s: stop it, or give this one its own --data-dir", dir, who)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
