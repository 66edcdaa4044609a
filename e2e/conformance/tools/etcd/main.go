// etcd, built from go.etcd.io/etcd/server/v3 at the version go.mod requires (the one Kubernetes is
// tested with: ETCD_VERSION in the kubernetes module's hack/lib/etcd.sh).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
