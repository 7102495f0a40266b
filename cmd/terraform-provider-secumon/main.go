// Command terraform-provider-secumon is SecuMon's Terraform (and OpenTofu) provider,
// registry.terraform.io/secuaas/secumon. Terraform starts it; to use a local build, point a
// dev_overrides CLI configuration at its folder (README, "Terraform").
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	provider "github.com/secuaas/secumon/client/terraform"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers such as delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
