package client

import "context"

// ResultsService reads what the probes measured: latest results, uptime, aggregated metrics
// and SNMP series.
type ResultsService service

// Latest returns the latest result of each of the host's checks.
func (s *ResultsService) Latest(ctx context.Context, hostID Id, editors ...RequestEditorFn) ([]CheckResult, error) {
	return decodeSlice[CheckResult](s.c.raw.GetHostLatestResults(ctx, hostID, nil, editors...))
}

// Uptime returns the share of OK ping results of the host over a window (24h, 7d or 30d;
// opts nil means 24h).
func (s *ResultsService) Uptime(ctx context.Context, hostID Id, opts *GetHostUptimeParams, editors ...RequestEditorFn) (*Uptime, error) {
	return decode[Uptime](s.c.raw.GetHostUptime(ctx, hostID, opts, editors...))
}

// Metrics returns one check's results between opts.From and opts.To, raw or in buckets.
func (s *ResultsService) Metrics(ctx context.Context, opts GetCheckMetricsParams, editors ...RequestEditorFn) (*CheckMetrics, error) {
	return decode[CheckMetrics](s.c.raw.GetCheckMetrics(ctx, &opts, editors...))
}

// SNMP returns the SNMP series of the host's snmp checks; opts may be nil (the last 6 hours).
func (s *ResultsService) SNMP(ctx context.Context, hostID Id, opts *GetHostSnmpMetricsParams, editors ...RequestEditorFn) (*SnmpMetrics, error) {
	return decode[SnmpMetrics](s.c.raw.GetHostSnmpMetrics(ctx, hostID, opts, editors...))
}

// SNMPDevices returns the SNMP inventory: one entry per snmp check with its latest values.
func (s *ResultsService) SNMPDevices(ctx context.Context, editors ...RequestEditorFn) ([]SnmpDevice, error) {
	return decodeSlice[SnmpDevice](s.c.raw.ListSnmpDevices(ctx, nil, editors...))
}
