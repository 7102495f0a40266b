package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// Telegram through the Bot API: POST {TelegramAPI}/bot{token}/sendMessage with the chat and an
// HTML text. The bot's token is in the URL's path, so neither the URL nor the token ever goes
// into an error (post strips the URL), a log or the delivery's target: the token is the
// delivery's secret and the target is the chat. The API answers {"ok":true,"result":…}; a
// refusal is {"ok":false,"error_code":…,"description":…}, and flood control is 429 with
// parameters.retry_after in seconds.

var (
	// telegramToken is a bot token as @BotFather gives it (the contract's TelegramChannel.bot_token).
	telegramToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,100}$`)
	// telegramChat is a chat id, negative for groups and channels, or a public channel's
	// @username (the contract's TelegramChannel.chat_id).
	telegramChat = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
)

// telegramTextMax is the Bot API's limit on a message's text, in characters after entities
// are parsed; the text is cut a little below it, counting the markup.
const telegramTextMax = 4096

// htmlEscaper escapes what Telegram's HTML parse mode reserves: every <, > and & that is not
// markup must be written as an entity.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// sendTelegram sends the delivery to its chat as an HTML message.
func sendTelegram(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	if d.Secret == nil || !telegramToken.MatchString(*d.Secret) {
		return outcome{Err: errors.New("no valid bot token stored for this delivery"), Permanent: true}
	}
	body, err := json.Marshal(map[string]any{
		"chat_id":                  d.Target,
		"text":                     telegramText(chatMessageOf(cfg, d)),
		"parse_mode":               "HTML",
		"disable_web_page_preview": true,
	})
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	out, answer := post(ctx, cfg, d, cfg.TelegramAPI+"/bot"+*d.Secret+"/sendMessage", body, http.Header{"Content-Type": {"application/json"}})
	switch {
	case out.StatusCode == http.StatusTooManyRequests && out.RetryAfter == 0:
		out.RetryAfter = retryAfterSeconds(answer)
	case out.Err == nil && telegramRefused(answer):
		// A 2xx that says "ok": false is a refusal all the same.
		out.Err, out.Permanent = errors.New("Telegram answered ok: false"), true
	}
	if out.Err != nil && strings.Contains(out.Err.Error(), *d.Secret) {
		// post never puts the URL in an error, but an answer quoting the request could.
		out.Err = errors.New(strings.ReplaceAll(out.Err.Error(), *d.Secret, "********"))
	}
	return out
}

// telegramText is the message: the title in bold, the incident's facts, its description and
// a link to it, every piece of text escaped.
func telegramText(m chatMessage) string {
	var b strings.Builder
	b.WriteString("<b>" + htmlEscaper.Replace(m.Title) + "</b>\n")
	for _, f := range m.facts() {
		b.WriteString("\n" + f[0] + ": " + htmlEscaper.Replace(f[1]))
	}
	link := ""
	if m.Link != "" {
		link = "\n\n<a href=\"" + htmlEscaper.Replace(strings.ReplaceAll(m.Link, `"`, "%22")) + "\">Open the incident</a>"
	}
	if m.Description != "" {
		room := telegramTextMax - 100 - len([]rune(b.String())) - len([]rune(link))
		b.WriteString("\n\n" + htmlEscaper.Replace(truncate(m.Description, room)))
	}
	b.WriteString(link)
	return b.String()
}

// telegramRefused reports whether an answer's JSON says "ok": false. Only the start of the
// answer is read, and the Bot API puts "ok" first, so the answer is read token by token rather
// than as a whole document.
func telegramRefused(answer []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(answer)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	if key, err := dec.Token(); err != nil || key != "ok" {
		return false
	}
	v, err := dec.Token()
	return err == nil && v == false
}
