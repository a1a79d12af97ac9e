package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// auditEntry returns the audit entry ctx carries, if any.
func auditEntry(ctx context.Context) *audit.Entry {
	if e, ok := audit.From(ctx); ok {
		return &e
	}
	return nil
}

// auditOps is the put of ctx's audit entry (none without one). The entry's
// id sorts by time: fixed-width UTC time plus random bits.
func (s *Store) auditOps(ctx context.Context, detail map[string]any) []clientv3.Op {
	e := auditEntry(ctx)
	if e == nil {
		return nil
	}
	entry := *e
	if entry.At.IsZero() {
		entry.At = s.now().UTC()
	}
	// The id orders entries by when the store wrote them (the node's
	// clock), then random bits.
	var b [4]byte
	_, _ = rand.Read(b[:])
	entry.ID = s.now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
	if len(detail) > 0 {
		entry.Detail = detail
	}
	return []clientv3.Op{clientv3.OpPut(s.k.audit(entry.ID), encode(entry))}
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []audit.Entry
	Next    string
}

// ListAudit returns up to limit audit entries older than cursor (an entry
// id from a previous page), newest first.
func (s *Store) ListAudit(ctx context.Context, limit int, cursor string) (page AuditPage, err error) {
	defer s.track("audit_list", time.Now(), &err)
	prefix := s.k.auditPrefix()
	end := prefixEnd(prefix)
	if cursor != "" {
		end = prefix + cursor
	}
	resp, err := s.c.Get(ctx, prefix, clientv3.WithRange(end),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return page, wrap("list audit", err)
	}
	for _, kv := range resp.Kvs {
		var e audit.Entry
		if err := decode(string(kv.Key), kv.Value, &e); err != nil {
			return page, err
		}
		page.Entries = append(page.Entries, e)
	}
	if resp.More && len(resp.Kvs) > 0 {
		page.Next = lastSegment(string(resp.Kvs[len(resp.Kvs)-1].Key))
	}
	return page, nil
}

// TrimAudit deletes audit entries beyond the newest keep and those older
// than cutoff, fenced by leadership. It returns how many it deleted.
func (s *Store) TrimAudit(ctx context.Context, fence Fence, keep int, cutoff time.Time) (deleted int, err error) {
	defer s.track("audit_trim", time.Now(), &err)
	prefix := s.k.auditPrefix()
	resp, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	if err != nil {
		return 0, wrap("list audit", err)
	}
	var doomed []string
	cut := cutoff.UTC().Format("20060102T150405.000000000Z")
	for i, kv := range resp.Kvs {
		key := string(kv.Key)
		if i >= keep || lastSegment(key) < cut {
			doomed = append(doomed, key)
		}
	}
	return s.deleteFenced(ctx, fence, doomed)
}

// deleteFenced deletes keys in fenced transactions of at most maxOpsPerTxn.
func (s *Store) deleteFenced(ctx context.Context, fence Fence, keys []string) (int, error) {
	deleted := 0
	for len(keys) > 0 {
		n := min(len(keys), maxOpsPerTxn)
		ops := make([]clientv3.Op, 0, n)
		for _, key := range keys[:n] {
			ops = append(ops, clientv3.OpDelete(key))
		}
		tr, err := s.c.Txn(ctx).If(fence.cmp()).Then(ops...).Commit()
		if err != nil {
			return deleted, wrap("delete", err)
		}
		if !tr.Succeeded {
			return deleted, ErrNotLeader
		}
		deleted += n
		keys = keys[n:]
	}
	return deleted, nil
}
