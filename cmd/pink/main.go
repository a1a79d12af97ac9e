// Command pink is the distributed cron scheduler: one binary whose
// subcommands run the parts of a pink cluster and manage it through its API.
//
//	pink dev         everything in one process, on an embedded etcd
//	pink scheduler   a scheduler node (leader election, fire loop, API)
//	pink worker      a worker of one group with the built-in targets
//	pink bench       measure throughput, lags, etcd cost, failover times
//	pink apply       make jobs and groups match a file
//	pink jobs|groups|runs|snapshots|nodes|audit|schedule ...   the API client
//	pink version     print the version
//
// The commands live in internal/cli; this package only runs them.
package main

import (
	"os"

	"github.com/pink-scheduler/pink/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
