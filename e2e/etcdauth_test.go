package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestEtcdAuth: with etcd's authentication on, a scheduler (credentials as
// flags) and a worker (credentials in PINK_ETCD_USERNAME and
// PINK_ETCD_PASSWORD) of an etcd user whose role may only read and write
// /pink/ run a job; with a wrong password both stop with a clear error.
//
// etcd runs as its own process, not embedded in this race-instrumented
// test binary: there bcrypt, which etcd runs on each authentication, once
// took longer under load than a pink process's 5 s to connect (CI).
func TestEtcdAuth(t *testing.T) {
	etcd := pinktest.StartEtcdProcess(t)
	root := pinktest.StartEtcdClient(t, etcd.Endpoints)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	endpoints := strings.Join(etcd.Endpoints, ",")
	for _, step := range []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "pink-rw"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "pink-rw", "/pink/", clientv3.GetPrefixRangeEnd("/pink/"),
				clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "pink", "pink-pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "pink", "pink-rw"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("set up etcd auth: %v", err)
		}
	}
	// Auth is really on: without credentials, and as pink outside /pink/,
	// etcd refuses.
	if _, err := root.Get(ctx, "/pink/", clientv3.WithPrefix()); err == nil {
		t.Fatal("etcd answered an unauthenticated read with auth enabled")
	}
	pinkCli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints, Username: "pink", Password: "pink-pw",
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer pinkCli.Close()
	if _, err := pinkCli.Put(ctx, "/elsewhere", "x"); err == nil {
		t.Fatal("the pink user may write outside /pink/")
	}

	sched := pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", endpoints,
		"--etcd-username", "pink", "--etcd-password", "pink-pw", "--listen", "127.0.0.1:0", "--session-ttl", "2s")
	addr := sched.SchedulerAddr()
	sched.WaitOutput("became leader", 30*time.Second)
	pinktest.StartProcess(t, "worker", []string{"PINK_ETCD_USERNAME=pink", "PINK_ETCD_PASSWORD=pink-pw"}, "worker",
		"--group", "default", "--allow-shell", "--etcd-endpoints", endpoints, "--listen", "127.0.0.1:0", "--lease-ttl", "2s").
		WaitOutput("worker registered", 30*time.Second)

	api := pinktest.NewAPI(addr)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "hello", "group": "default", "schedule": "@daily",
		"target": "shell", "params": map[string]any{"command": []string{"echo", "hello from an etcd user"}}}, 201, nil)
	api.JSON(t, "POST", "/api/v1/jobs/hello/trigger", nil, 202, nil)
	var runs []snapshot.Run
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		runs, err = api.TryRuns("hello")
		return err == nil && len(runs) > 0, fmt.Sprintf("runs %v, %v", runs, err)
	})
	if len(runs) != 1 || runs[0].Status != snapshot.StatusSucceeded || runs[0].Output != "hello from an etcd user\n" {
		t.Errorf("runs: %+v", runs)
	}

	// A wrong password, as a flag or in the environment, stops the process
	// with etcd's reason.
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"scheduler", nil, []string{"scheduler", "--etcd-username", "pink", "--etcd-password", "wrong", "--listen", "127.0.0.1:0"}},
		{"worker", []string{"PINK_ETCD_USERNAME=pink", "PINK_ETCD_PASSWORD=wrong"}, []string{"worker", "--group", "default", "--listen", "127.0.0.1:0"}},
	} {
		p := pinktest.StartProcess(t, tc.name+" with a wrong password", tc.env, append(tc.args, "--etcd-endpoints", endpoints)...)
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) { return p.Exited(), tc.name + " still running" })
		out := p.Output()
		want := fmt.Sprintf("pink %s: connect to etcd [%s]: etcdserver: authentication failed, invalid user ID or password", tc.name, endpoints)
		if !strings.Contains(out, want) {
			t.Errorf("%s with a wrong password printed:\n%s\nwant a line with %q", tc.name, out, want)
		}
	}
}
