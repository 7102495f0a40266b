package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/edge/checkconfig"
	"github.com/secuaas/secumon/server/edge/problem"
)

// maskedSecret stands in for a webhook secret in responses, as checkconfig.Mask does for the
// secrets of check configs; sent back unchanged on update, it keeps the stored secret of the
// webhook with the same URL.
const maskedSecret = checkconfig.Mask

func (a *API) ListAlertPolicies(ctx context.Context, req api.ListAlertPoliciesRequestObject) (api.ListAlertPoliciesResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	list, err := listPage(ctx, req.Params.Cursor, req.Params.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.AlertPolicy, error) {
			return a.q.ListAlertPolicies(ctx, db.ListAlertPoliciesParams{WorkspaceID: ws, AfterName: afterName, AfterID: afterID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) { return a.q.CountAlertPolicies(ctx, ws) },
		func(p db.AlertPolicy) keyset { return keyset{Name: p.Name, ID: p.ID} })
	if err != nil {
		return nil, err
	}
	out := api.AlertPolicyList{Count: list.total, Policies: make([]api.AlertPolicy, len(list.rows)), NextCursor: list.next}
	for i, p := range list.rows {
		out.Policies[i] = policyOut(p)
	}
	return api.ListAlertPolicies200JSONResponse{Body: out}, nil
}

func (a *API) CreateAlertPolicy(ctx context.Context, req api.CreateAlertPolicyRequestObject) (api.CreateAlertPolicyResponseObject, error) {
	b := req.Body
	ws := caller(ctx).WorkspaceID
	if b.Channels != nil {
		if err := a.checkChannels(ctx, a.q, ws, *b.Channels, "channels"); err != nil {
			return nil, err
		}
		if err := refuseMasks(*b.Channels, "channels"); err != nil {
			return nil, err
		}
	}
	if b.Conditions != nil {
		if err := checkConditions(ctx, a.q, ws, *b.Conditions); err != nil {
			return nil, err
		}
	}
	var p db.AlertPolicy
	err := a.inTx(ctx, func(q *db.Queries) error {
		var err error
		p, err = q.CreateAlertPolicy(ctx, db.CreateAlertPolicyParams{
			WorkspaceID: ws, ID: uuid.New(), Name: b.Name, Description: deref(b.Description),
			Enabled: derefOr(b.Enabled, true), CooldownSec: int32(derefOr(b.CooldownSec, 300)),
			Conditions: mustJSON(derefOr(b.Conditions, api.AlertConditions{})), Channels: mustJSON(derefOr(b.Channels, api.AlertChannels{})),
		})
		if err != nil || b.EscalationPolicyId == nil {
			return err
		}
		p, err = routeToEscalation(ctx, q, p, b.EscalationPolicyId)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.CreateAlertPolicy201JSONResponse(policyOut(p)), nil
}

func (a *API) GetAlertPolicy(ctx context.Context, req api.GetAlertPolicyRequestObject) (api.GetAlertPolicyResponseObject, error) {
	p, err := a.q.GetAlertPolicy(ctx, db.GetAlertPolicyParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "alert policy")
	}
	return api.GetAlertPolicy200JSONResponse{Body: policyOut(p)}, nil
}

// UpdateAlertPolicy is a partial update: absent fields keep their value (name is required).
func (a *API) UpdateAlertPolicy(ctx context.Context, req api.UpdateAlertPolicyRequestObject) (api.UpdateAlertPolicyResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	var out db.AlertPolicy
	err := a.inTx(ctx, func(q *db.Queries) error {
		old, err := q.GetAlertPolicy(ctx, db.GetAlertPolicyParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "alert policy")
		}
		p := db.UpdateAlertPolicyParams{WorkspaceID: ws, ID: req.Id, Name: b.Name, Description: b.Description, Enabled: b.Enabled}
		if b.CooldownSec != nil {
			c := int32(*b.CooldownSec)
			p.CooldownSec = &c
		}
		if b.Conditions != nil {
			if err := checkConditions(ctx, q, ws, *b.Conditions); err != nil {
				return err
			}
			p.Conditions = mustJSON(*b.Conditions)
		}
		if b.Channels != nil {
			if err := a.checkChannels(ctx, q, ws, *b.Channels, "channels"); err != nil {
				return err
			}
			kept := keepChannelSecrets(*b.Channels, old.Channels)
			if err := refuseMasks(kept, "channels"); err != nil {
				return err
			}
			p.Channels = mustJSON(kept)
		}
		if out, err = q.UpdateAlertPolicy(ctx, p); err != nil || !b.EscalationPolicyId.IsSpecified() {
			return err
		}
		var to *uuid.UUID
		if !b.EscalationPolicyId.IsNull() {
			id := b.EscalationPolicyId.MustGet()
			to = &id
		}
		out, err = routeToEscalation(ctx, q, out, to)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateAlertPolicy200JSONResponse{Body: policyOut(out)}, nil
}

func (a *API) DeleteAlertPolicy(ctx context.Context, req api.DeleteAlertPolicyRequestObject) (api.DeleteAlertPolicyResponseObject, error) {
	n, err := a.q.DeleteAlertPolicy(ctx, db.DeleteAlertPolicyParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("alert policy")
	}
	return api.DeleteAlertPolicy204Response{}, nil
}

// headerName is an HTTP header name (RFC 9110 token), bounded.
var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")

// checkChannels refuses, naming the field, on-call schedules that are not the workspace's,
// webhook body templates that do not render (alerting.ParseBodyTemplate) and header names
// that are invalid or SecuMon's own: the rules on channels the contract cannot express. The
// contract validates the rest before this runs (http(s) URLs, secret lengths, e-mail addresses, list sizes), so bad
// targets are refused when the policy is saved rather than failing every delivery later.
// field is where the channels are in the request body ("channels").
func (a *API) checkChannels(ctx context.Context, q *db.Queries, ws uuid.UUID, ch api.AlertChannels, field string) error {
	for i, w := range derefOr(ch.Webhook, nil) {
		for name := range derefOr(w.ExtraHeaders, nil) {
			if !headerName.MatchString(name) {
				return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.webhook.%d.extra_headers", field, i), Message: fmt.Sprintf("%q is not a header name (1 to 64 token characters)", name)})
			}
			if notify.ReservedHeader(name) {
				return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.webhook.%d.extra_headers.%s", field, i, name), Message: "this header is set by SecuMon and cannot be replaced"})
			}
		}
		if w.BodyTemplate == nil {
			continue
		}
		if _, err := alerting.ParseBodyTemplate(*w.BodyTemplate, alerting.IsJSON(derefOr(w.ContentType, ""))); err != nil {
			return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.webhook.%d.body_template", field, i), Message: err.Error()})
		}
	}
	for i, id := range derefOr(ch.Oncall, nil) {
		if _, err := q.GetOncallSchedule(ctx, db.GetOncallScheduleParams{WorkspaceID: ws, ID: id}); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.oncall.%d", field, i), Message: "no such on-call schedule in this workspace"})
			}
			return err
		}
	}
	return nil
}

// routeToEscalation makes the policy escalate through the escalation policy to (nil: none),
// refusing one that is not the workspace's.
func routeToEscalation(ctx context.Context, q *db.Queries, p db.AlertPolicy, to *uuid.UUID) (db.AlertPolicy, error) {
	if to != nil {
		if _, err := q.GetEscalationPolicy(ctx, db.GetEscalationPolicyParams{WorkspaceID: p.WorkspaceID, ID: *to}); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return p, problem.Invalid(problem.FieldError{Field: "escalation_policy_id", Message: "no such escalation policy in this workspace"})
			}
			return p, err
		}
	}
	err := q.SetAlertPolicyEscalation(ctx, db.SetAlertPolicyEscalationParams{WorkspaceID: p.WorkspaceID, ID: p.ID, EscalationPolicyID: to})
	p.EscalationPolicyID = to
	return p, err
}

// checkConditions refuses host ids that are not the workspace's hosts, naming the field.
func checkConditions(ctx context.Context, q *db.Queries, ws uuid.UUID, c api.AlertConditions) error {
	return checkHostsKnown(ctx, q, ws, derefOr(c.HostIds, nil), "conditions.host_ids")
}

// keepChannelSecrets lets a client send back channels it read masked: Slack, Teams, Discord
// and webhook URLs sent back masked take their stored value (checkconfig.KeepMaskedURLs), then
// masked webhook secrets take the stored secret of the webhook with the same URL, and masked
// Telegram bot tokens the stored token of the Telegram channel with the same chat.
func keepChannelSecrets(ch api.AlertChannels, stored []byte) api.AlertChannels {
	var old api.AlertChannels
	_ = json.Unmarshal(stored, &old)
	keepWhole := func(sent, stored *[]string) *[]string {
		if sent == nil {
			return nil
		}
		kept := checkconfig.KeepMaskedURLs(*sent, derefOr(stored, nil), checkconfig.MaskSlackURL)
		return &kept
	}
	ch.Slack = keepWhole(ch.Slack, old.Slack)
	ch.Teams = keepWhole(ch.Teams, old.Teams)
	ch.Discord = keepWhole(ch.Discord, old.Discord)
	if ch.Telegram != nil {
		tokens := map[string]*string{}
		for _, tg := range derefOr(old.Telegram, nil) {
			tokens[tg.ChatId] = tg.BotToken
		}
		chats := make([]api.TelegramChannel, len(*ch.Telegram))
		for i, tg := range *ch.Telegram {
			if tg.BotToken != nil && *tg.BotToken == maskedSecret {
				tg.BotToken = tokens[tg.ChatId]
			}
			chats[i] = tg
		}
		ch.Telegram = &chats
	}
	if ch.Pagerduty != nil {
		old := derefOr(old.Pagerduty, nil)
		for i, p := range *ch.Pagerduty {
			if p.RoutingKey != nil && *p.RoutingKey == maskedSecret && i < len(old) {
				(*ch.Pagerduty)[i].RoutingKey = old[i].RoutingKey
			}
		}
	}
	if ch.Opsgenie != nil {
		old := derefOr(old.Opsgenie, nil)
		for i, o := range *ch.Opsgenie {
			if o.ApiKey != nil && *o.ApiKey == maskedSecret && i < len(old) {
				(*ch.Opsgenie)[i].ApiKey = old[i].ApiKey
			}
		}
	}
	if ch.Ntfy != nil {
		oldNtfy := derefOr(old.Ntfy, nil)
		var sent, stored []string
		tokens := map[string]*string{}
		for _, n := range oldNtfy {
			stored = append(stored, n.Url)
			tokens[n.Url] = n.Token
		}
		for _, n := range *ch.Ntfy {
			sent = append(sent, n.Url)
		}
		urls := checkconfig.KeepMaskedURLs(sent, stored, checkconfig.MaskPathURL)
		for i := range *ch.Ntfy {
			n := &(*ch.Ntfy)[i]
			n.Url = urls[i]
			if n.Token != nil && *n.Token == maskedSecret {
				n.Token = tokens[n.Url]
			}
		}
	}
	if ch.Webhook == nil {
		return ch
	}
	secrets := map[string]*string{}
	headers := map[string]map[string]string{}
	var oldURLs []string
	for _, w := range derefOr(old.Webhook, nil) {
		secrets[w.Url] = w.Secret
		headers[w.Url] = derefOr(w.ExtraHeaders, nil)
		oldURLs = append(oldURLs, w.Url)
	}
	sentURLs := make([]string, len(*ch.Webhook))
	for i, w := range *ch.Webhook {
		sentURLs[i] = w.Url
	}
	urls := checkconfig.KeepMaskedURLs(sentURLs, oldURLs, checkconfig.MaskURL)
	hooks := make([]api.WebhookChannel, len(*ch.Webhook))
	for i, w := range *ch.Webhook {
		w.Url = urls[i]
		if w.Secret != nil && *w.Secret == maskedSecret {
			w.Secret = secrets[w.Url]
		}
		if w.ExtraHeaders != nil {
			kept := map[string]string{}
			for k, v := range *w.ExtraHeaders {
				if v == maskedSecret {
					old, ok := headers[w.Url][k]
					if !ok {
						continue // nothing stored to keep: the header is dropped
					}
					v = old
				}
				kept[k] = v
			}
			w.ExtraHeaders = &kept
		}
		hooks[i] = w
	}
	ch.Webhook = &hooks
	return ch
}

// refuseMasks refuses a secret still equal to the mask once stored values were kept (a
// paging key, a Telegram bot token sent masked where nothing is stored, as for a new policy or
// a changed chat_id): it would be sent to the service as the key, and could never deliver.
// field is where the channels are in the request body, as for checkChannels.
func refuseMasks(ch api.AlertChannels, field string) error {
	masked := func(field string, v *string) error {
		if v != nil && *v == maskedSecret {
			return problem.Invalid(problem.FieldError{Field: field, Message: "no stored key to keep: send the key itself"})
		}
		return nil
	}
	for i, p := range derefOr(ch.Pagerduty, nil) {
		if err := masked(fmt.Sprintf("%s.pagerduty.%d.routing_key", field, i), p.RoutingKey); err != nil {
			return err
		}
	}
	for i, o := range derefOr(ch.Opsgenie, nil) {
		if err := masked(fmt.Sprintf("%s.opsgenie.%d.api_key", field, i), o.ApiKey); err != nil {
			return err
		}
	}
	for i, tg := range derefOr(ch.Telegram, nil) {
		if tg.BotToken == nil || *tg.BotToken == "" || *tg.BotToken == maskedSecret {
			return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.telegram.%d.bot_token", field, i),
				Message: "no stored bot token for this chat_id: send the token itself"})
		}
	}
	return nil
}

func policyOut(p db.AlertPolicy) api.AlertPolicy {
	var cond api.AlertConditions
	var ch api.AlertChannels
	_ = json.Unmarshal(p.Conditions, &cond)
	_ = json.Unmarshal(p.Channels, &ch)
	created, updated := p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return api.AlertPolicy{
		Id: p.ID, Name: p.Name, Description: optional(p.Description), Enabled: p.Enabled, CooldownSec: int(p.CooldownSec),
		Conditions: cond, Channels: maskChannels(ch), CreatedAt: &created, UpdatedAt: &updated, EscalationPolicyId: p.EscalationPolicyID,
	}
}

// maskChannels hides the secrets of channels. Credentials in URLs are secrets too: a Slack
// URL as a whole, a webhook URL's password and query values.
func maskChannels(ch api.AlertChannels) api.AlertChannels {
	if ch.Webhook != nil {
		for i := range *ch.Webhook {
			(*ch.Webhook)[i].Url = checkconfig.MaskURL((*ch.Webhook)[i].Url)
			if (*ch.Webhook)[i].Secret != nil {
				masked := maskedSecret
				(*ch.Webhook)[i].Secret = &masked
			}
			if h := (*ch.Webhook)[i].ExtraHeaders; h != nil {
				for k := range *h {
					(*h)[k] = maskedSecret
				}
			}
		}
	}
	// Slack, Teams and Discord URLs are secrets as a whole.
	for _, urls := range []*[]string{ch.Slack, ch.Teams, ch.Discord} {
		for i := range derefOr(urls, nil) {
			(*urls)[i] = checkconfig.MaskSlackURL((*urls)[i])
		}
	}
	masked := maskedSecret
	for i := range derefOr(ch.Telegram, nil) {
		(*ch.Telegram)[i].BotToken = &masked
	}
	for i := range derefOr(ch.Pagerduty, nil) {
		(*ch.Pagerduty)[i].RoutingKey = &masked
	}
	for i := range derefOr(ch.Opsgenie, nil) {
		(*ch.Opsgenie)[i].ApiKey = &masked
	}
	for i := range derefOr(ch.Ntfy, nil) {
		n := &(*ch.Ntfy)[i]
		n.Url = checkconfig.MaskPathURL(n.Url)
		if n.Token != nil {
			n.Token = &masked
		}
	}
	return ch
}
