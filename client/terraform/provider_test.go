package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	provider "github.com/secuaas/secumon/client/terraform"
	"github.com/secuaas/secumon/client/terraform/internal/tofutest"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// acc is one acceptance test's world: a real SecuMon (real HTTP stack, real PostgreSQL), an
// SDK client of it for PreConfig changes and destroy checks, and the provider served
// in-process to a real OpenTofu.
type acc struct {
	env       *servertest.Env
	c         *client.Client
	factories map[string]func() (tfprotov6.ProviderServer, error)
}

func newAcc(t *testing.T) *acc {
	t.Helper()
	tofutest.Setup(t)
	env := servertest.Start(t)
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	return &acc{env: env, c: c, factories: map[string]func() (tfprotov6.ProviderServer, error){
		"secumon": providerserver.NewProtocol6WithError(provider.New("test")()),
	}}
}

// config is a configuration with the provider block pointing at the test's server. The
// provider's full source address matches the one the test framework serves it under
// (tofutest.Setup), so that tofu never looks for it in a registry.
func (a *acc) config(body string) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    secumon = { source = %q }
  }
}

provider "secumon" {
  url   = %q
  token = %q
}
%s`, provider.Address, a.env.URL, a.env.OwnerToken, body)
}

// id returns the id in the state of the resource at addr.
func id(s *terraform.State, addr string) (client.Id, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return client.Id{}, fmt.Errorf("%s is not in the state", addr)
	}
	var out client.Id
	return out, out.UnmarshalText([]byte(rs.Primary.ID))
}

// withID runs f with the id of the resource at addr (for the PreConfig of drift steps,
// which get no state: the id is captured by a Check of the step before).
type idBox struct{ v client.Id }

func (b *idBox) capture(addr string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		v, err := id(s, addr)
		b.v = v
		return err
	}
}

// gone is a CheckDestroy: every resource of type typ in the state answers 404 through the SDK.
func gone(typ string, get func(context.Context, client.Id) error) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if rs.Type != typ {
				continue
			}
			var v client.Id
			if err := v.UnmarshalText([]byte(rs.Primary.ID)); err != nil {
				return err
			}
			err := get(context.Background(), v)
			if !client.IsNotFound(err) {
				return fmt.Errorf("%s %s still exists after destroy (err %v)", typ, v, err)
			}
		}
		return nil
	}
}

type terraformState = terraform.State
