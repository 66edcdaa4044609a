// kube-apiserver, built from the k8s.io/kubernetes module at the version go.mod requires. The body is the
// upstream command's main: `go install` refuses k8s.io/kubernetes (its go.mod replaces the staging
// modules with local paths), so this wrapper module requires it and pins the staging modules instead.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
