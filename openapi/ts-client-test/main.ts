// A TypeScript client nobody here wrote: types from openapi-typescript (default options) and
// openapi-fetch, used the way the README uses the API with its minimal request bodies. `make
// ts-client` type-checks this file (it is never run); errors listed in KNOWN_GAPS are contract
// gaps still tolerated, any other fails. Write it as a user would: do not bend it to the types.
import createClient from "openapi-fetch";
import type { paths } from "../.lint-out/secumon";
import trivyReport from "../../examples/appsec/trivy-sample.json";

const client = createClient<paths>({
  baseUrl: "http://127.0.0.1:8080/api/v2",
  headers: { Authorization: `Bearer ${process.env.SECUMON_TOKEN}` },
});

declare const process: { env: Record<string, string | undefined> };

export async function walkthrough(): Promise<void> {
  // The README's host.
  const { data: host, error } = await client.POST("/hosts", {
    body: { name: "web-prod-01", hostname: "127.0.0.1", host_type: "server", tags: { env: "prod" } },
  });
  if (error || !host) throw new Error(`create host: ${error?.title}`);
  const hostId: string = host.id;

  // One check of each type, each with its minimal config.
  const ping = await client.POST("/checks", {
    body: { host_id: hostId, name: "ping web-prod-01", check_type: "ping", config: { host: "127.0.0.1" } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "snmp web-prod-01", check_type: "snmp", config: { community: "public" } },
  });
  const http = await client.POST("/checks", {
    body: { host_id: hostId, name: "health", check_type: "http", config: { url: "http://127.0.0.1:8081/health" } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "ssh", check_type: "tcp", config: { port: 22 } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "dns", check_type: "dns", config: { query_name: "example.com" } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "certificate", check_type: "tls", config: { host: "127.0.0.1", port: 8443 } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "orders health", check_type: "grpc", config: { port: 50051, service: "shop.Orders" } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "mail", check_type: "smtp", config: { starttls: "required" } },
  });
  await client.POST("/checks", {
    body: { host_id: hostId, name: "database", check_type: "postgres", config: { user: "monitor", password: "s3cret" } },
  });

  // Typed fields of the answers.
  if (!ping.data || !http.data) throw new Error("create check failed");
  const interval: number = ping.data.interval_sec;
  // A check's config is one of the config types: narrow it by a field of its type.
  const cfg = http.data.config;
  const url: string | undefined = "url" in cfg ? cfg.url : undefined;
  const verifyTLS: boolean | undefined = "url" in cfg ? cfg.verify_tls : undefined;
  console.log(interval, url, verifyTLS);

  // An incident, as the spec's example.
  const incident = await client.POST("/incidents", {
    body: { title: "Dégradation web-prod-01", host_id: hostId },
  });
  const incidentStatus: string | undefined = incident.data?.status;

  // The README's status page.
  const page = await client.POST("/status-pages", {
    body: {
      slug: "web-prod",
      title: "Web services",
      components: [{ name: "Site web", group: "Production", host_id: hostId }],
    },
  });
  const isPublic: boolean | undefined = page.data?.is_public;

  // A real Trivy report, as the README uploads it.
  const report = await client.POST("/app-security/reports", {
    params: { query: { project: "web" } },
    body: trivyReport,
  });
  console.log(incidentStatus, isPublic, report.data?.id);
}
