package snapshot

// Live is a snapshot that has not finished, as stored, with the revision
// of its key: every transition compares on it, so two actors cannot move
// one snapshot.
type Live struct {
	Snapshot
	ModRevision int64 `json:"-"`
}
