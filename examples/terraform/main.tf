# SecuMon with Terraform or OpenTofu, against `make run`. From the repository's root:
#
#   go build -o bin/ ./cmd/terraform-provider-secumon
#   printf 'provider_installation {\n  dev_overrides { "registry.terraform.io/secuaas/secumon" = "%s/bin" }\n  direct {}\n}\n' "$PWD" > bin/dev.tfrc
#   export TF_CLI_CONFIG_FILE=$PWD/bin/dev.tfrc
#   export SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=$(cat .secumon/owner.token)
#   cd examples/terraform && tofu plan && tofu apply
#
# With dev_overrides there is no `tofu init`: the provider comes from bin/.

terraform {
  required_providers {
    secumon = {
      # The full address: OpenTofu would otherwise look under registry.opentofu.org.
      source = "registry.terraform.io/secuaas/secumon"
    }
  }
}

# url and token default to SECUMON_URL and SECUMON_TOKEN.
provider "secumon" {}

data "secumon_workspace" "this" {}

resource "secumon_host" "web" {
  name      = "tf-web-01"
  hostname  = "127.0.0.1"
  host_type = "server"
  tags      = { env = "demo", managed_by = "terraform" }
}

resource "secumon_check" "web_http" {
  host_id = secumon_host.web.id
  name    = "tf web http"
  http = {
    url             = "http://127.0.0.1:8080/healthz"
    expected_status = [200]
    # Write-only: the API masks it; the state keeps what is written here, so plans stay empty.
    headers = { Authorization = "Bearer example-secret" }
    # Each assertion's kind selects its fields; a json_path value is JSON text (jsonencode).
    assertions = [
      { kind = "json_path", path = "$.status", op = "==", value = jsonencode("ok") },
      { kind = "latency_below_ms", ms = 800, severity = "warning" },
    ]
  }
}

resource "secumon_check" "web_tcp" {
  host_id      = secumon_host.web.id
  name         = "tf web tcp"
  interval_sec = 30
  severity     = "major"
  tcp          = { port = 8080 }
}

resource "secumon_check" "backup" {
  host_id   = secumon_host.web.id
  name      = "tf nightly backup"
  heartbeat = { schedule = "0 3 * * *", timezone = "Europe/Paris", grace_sec = 1800 }
}

# Who is on call, and the chain an unacknowledged incident walks: the on-call person first,
# then after 15 minutes the team's channel.
resource "secumon_oncall_schedule" "ops" {
  name          = "tf ops"
  timezone      = "Europe/Paris"
  rotation_type = "weekly"
  handoff_time  = "09:00"
  members = [
    { name = "Alice", email = "alice@example.com", phone = "+33600000001" },
    { name = "Bob", email = "bob@example.com" },
  ]
}

resource "secumon_escalation_policy" "ops" {
  name = "tf ops chain"
  levels = [
    {
      wait_sec = 900
      targets  = [{ type = "oncall", schedule_id = secumon_oncall_schedule.ops.id }]
    },
    {
      wait_sec = 900
      targets = [{
        type     = "channels"
        channels = { email = ["ops@example.com"] }
      }]
    },
  ]
}

# Critical and major incidents of the demo host go to the team by e-mail, then escalate.
resource "secumon_alert_policy" "critical" {
  name = "tf critical to ops"
  conditions = {
    severity  = ["critical", "major"]
    host_tags = { env = "demo" }
  }
  channels             = { email = ["ops@example.com"] }
  escalation_policy_id = secumon_escalation_policy.ops.id
}

resource "secumon_maintenance_window" "upgrade" {
  title          = "tf kernel upgrade"
  start_time     = "2099-01-01T02:00:00Z"
  end_time       = "2099-01-01T03:00:00Z"
  affected_hosts = [secumon_host.web.id]
}

output "workspace" {
  value = data.secumon_workspace.this.slug
}

# The secret URL the backup job calls at its end (`curl -fsS "$(tofu output -raw ping_url)"`).
output "ping_url" {
  value     = secumon_check.backup.ping_url
  sensitive = true
}
