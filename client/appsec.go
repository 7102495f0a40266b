package client

import (
	"context"
	"iter"
)

// AppSecurityService ingests scanner reports (Trivy JSON, SARIF 2.1.0) and triages the
// findings they bring; c.Dashboard.AppSecurity sums them up.
type AppSecurityService service

// UploadReport ingests one scanner report, a JSON document as the scanner wrote it (e.g.
// `trivy image --format json` or a SARIF log). opts may be nil, or name the project and the
// format; its IdempotencyKey, when nil, is a random one kept across the retries.
func (s *AppSecurityService) UploadReport(ctx context.Context, report []byte, opts *UploadAppSecurityReportParams, editors ...RequestEditorFn) (*AppSecReport, error) {
	var p UploadAppSecurityReportParams
	if opts != nil {
		p = *opts
	}
	if p.IdempotencyKey == nil {
		p.IdempotencyKey = newKey()
	}
	return decode[AppSecReport](s.c.raw.UploadAppSecurityReport(ctx, &p, ScannerReport(report), editors...))
}

// ListReports returns one page of ingested reports, newest first; opts may be nil.
func (s *AppSecurityService) ListReports(ctx context.Context, opts *ListAppSecurityReportsParams, editors ...RequestEditorFn) (*AppSecReportList, error) {
	return decode[AppSecReportList](s.c.raw.ListAppSecurityReports(ctx, opts, editors...))
}

// AllReports iterates over every report matching opts (nil for all), page after page.
func (s *AppSecurityService) AllReports(ctx context.Context, opts *ListAppSecurityReportsParams, editors ...RequestEditorFn) iter.Seq2[AppSecReport, error] {
	var p ListAppSecurityReportsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]AppSecReport, *string, error) {
		p.Cursor = cursor
		page, err := s.ListReports(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Reports, page.NextCursor, nil
	})
}

// GetReport returns one ingested report with the counts of what it changed.
func (s *AppSecurityService) GetReport(ctx context.Context, id Id, editors ...RequestEditorFn) (*AppSecReport, error) {
	return decode[AppSecReport](s.c.raw.GetAppSecurityReport(ctx, id, nil, editors...))
}

// ListFindings returns one page of findings, most severe first; opts may be nil or filter on
// project, severity, status and category.
func (s *AppSecurityService) ListFindings(ctx context.Context, opts *ListAppSecurityFindingsParams, editors ...RequestEditorFn) (*AppSecFindingList, error) {
	return decode[AppSecFindingList](s.c.raw.ListAppSecurityFindings(ctx, opts, editors...))
}

// AllFindings iterates over every finding matching opts (nil for all), page after page.
func (s *AppSecurityService) AllFindings(ctx context.Context, opts *ListAppSecurityFindingsParams, editors ...RequestEditorFn) iter.Seq2[AppSecFinding, error] {
	var p ListAppSecurityFindingsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]AppSecFinding, *string, error) {
		p.Cursor = cursor
		page, err := s.ListFindings(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Findings, page.NextCursor, nil
	})
}

// GetFinding returns one finding with its history dates and triage note.
func (s *AppSecurityService) GetFinding(ctx context.Context, id Id, editors ...RequestEditorFn) (*AppSecFinding, error) {
	return decode[AppSecFinding](s.c.raw.GetAppSecurityFinding(ctx, id, nil, editors...))
}

// UpdateFinding triages a finding: open, fixed or accepted, with an optional note (nil keeps
// the current one, empty clears it).
func (s *AppSecurityService) UpdateFinding(ctx context.Context, id Id, update AppSecFindingUpdate, editors ...RequestEditorFn) (*AppSecFinding, error) {
	return decode[AppSecFinding](s.c.raw.UpdateAppSecurityFinding(ctx, id, nil, update, editors...))
}
