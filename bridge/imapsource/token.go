package imapsource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// ErrToken marks a failure to get an OAuth2 access token (the token
// endpoint refused the client or the refresh token, or did not answer).
var ErrToken = errors.New("oauth2 token request failed")

// TokenError is the token endpoint's refusal (RFC 6749 section 5.2): its
// error code and description, never the request or the response body.
type TokenError struct {
	Status      int    // HTTP status of the answer
	Code        string // e.g. invalid_client, invalid_grant
	Description string // the endpoint's text, shortened
}

func (e *TokenError) Error() string {
	s := fmt.Sprintf("token endpoint answered HTTP %d", e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

func (e *TokenError) Unwrap() error { return ErrToken }

// TokenStore keeps a rotated refresh token across restarts: the state
// store's small records (store.Store implements it).
type TokenStore interface {
	SetInfo(ctx context.Context, name, value string) error
	Infos(ctx context.Context) (map[string]store.Info, error)
}

// TokenStatus is the token side of an OAuth2 account, for status and
// metrics. It never holds a token.
type TokenStatus struct {
	Grant       string    `json:"grant"`
	Expiry      time.Time `json:"expiry,omitzero"`       // of the current access token
	LastRefresh time.Time `json:"last_refresh,omitzero"` // last token obtained
	Refreshes   int64     `json:"refreshes"`
	Failures    int64     `json:"failures"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	OK          bool      `json:"ok"` // the last token request succeeded
}

// tokens gets and caches the access token of one account; the folders of
// the account share it (and a rotated refresh token).
type tokens struct {
	cfg     config.OAuth2
	account string
	store   TokenStore // nil: a rotated refresh token lives in memory only
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time

	mu       sync.Mutex
	tok      *oauth2.Token
	obtained time.Time
	refresh  string // the refresh token in use
	loaded   bool
	st       TokenStatus
}

func newTokens(cfg config.OAuth2, account string, ts TokenStore, log *slog.Logger) *tokens {
	return &tokens{cfg: cfg, account: account, store: ts, log: log, now: time.Now,
		http: &http.Client{Timeout: 30 * time.Second}, st: TokenStatus{Grant: cfg.Grant}}
}

// storeKey names the account's refresh token among the store's records.
func (t *tokens) storeKey() string { return "oauth2_refresh_token/" + t.account }

// margin is how long before expiry a token counts as used up: a fifth of
// its lifetime, at most five minutes, so a session ends and logs in again
// with a fresh token before the server could drop it.
func margin(lifetime time.Duration) time.Duration {
	return min(5*time.Minute, lifetime/5)
}

// freshUntil is when the current token stops being good to log in with
// (zero: no expiry given, good until the server refuses it).
func (t *tokens) freshUntil() time.Time {
	if t.tok == nil || t.tok.Expiry.IsZero() {
		return time.Time{}
	}
	return t.tok.Expiry.Add(-margin(t.tok.Expiry.Sub(t.obtained)))
}

// Token returns an access token good for a login now and when it stops
// being so (zero: unknown). A new one is fetched when the cached one is
// near expiry, or when force is set (the server refused it).
func (t *tokens) Token(ctx context.Context, force bool) (access string, until time.Time, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !force && t.tok != nil {
		if until := t.freshUntil(); until.IsZero() || t.now().Before(until) {
			return t.tok.AccessToken, until, nil
		}
	}
	tok, err := t.fetch(ctx)
	now := t.now()
	if err == nil && tok.AccessToken == "" {
		err = fmt.Errorf("%w: the answer holds no access token", ErrToken)
	}
	if err != nil {
		err = fmt.Errorf("oauth2 token for %s: %w%s", t.account, err, t.hint(err))
		t.st.OK, t.st.Failures = false, t.st.Failures+1
		t.st.LastError, t.st.LastErrorAt = err.Error(), now
		return "", time.Time{}, err
	}
	t.tok, t.obtained = tok, now
	t.st.OK, t.st.Refreshes, t.st.LastRefresh, t.st.Expiry = true, t.st.Refreshes+1, now, tok.Expiry
	t.log.Info("oauth2 access token obtained", "grant", t.cfg.Grant, "expires", tok.Expiry.Format(time.RFC3339))
	return tok.AccessToken, t.freshUntil(), nil
}

// hint says what to do about the usual refusals.
func (t *tokens) hint(err error) string {
	var te *TokenError
	if !errors.As(err, &te) {
		return ""
	}
	switch {
	case te.Code == "invalid_client":
		return " (check client_id and the client secret; a secret that expired must be replaced)"
	case te.Code == "invalid_grant" && t.cfg.Grant == config.GrantRefreshToken:
		return " (the refresh token is expired or revoked: get a new one, put it in refresh_token_file and restart)"
	case te.Code == "invalid_scope":
		return " (check scopes)"
	}
	return ""
}

// Status returns a snapshot.
func (t *tokens) Status() TokenStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

func (t *tokens) fetch(ctx context.Context) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.http)
	// Secret in the form body: one request per attempt (auto-detection
	// would try a second style after any refusal) and accepted by
	// Microsoft and Google alike.
	const style = oauth2.AuthStyleInParams
	if t.cfg.Grant == config.GrantClientCredentials {
		cc := &clientcredentials.Config{ClientID: t.cfg.ClientID, ClientSecret: string(t.cfg.ClientSecret),
			TokenURL: t.cfg.TokenURL, Scopes: t.cfg.Scopes, AuthStyle: style}
		tok, err := cc.Token(ctx)
		return tok, cleanTokenError(err)
	}
	if err := t.loadRefresh(ctx); err != nil {
		return nil, err
	}
	conf := &oauth2.Config{ClientID: t.cfg.ClientID, ClientSecret: string(t.cfg.ClientSecret),
		Endpoint: oauth2.Endpoint{TokenURL: t.cfg.TokenURL, AuthStyle: style}, Scopes: t.cfg.Scopes}
	// A token with only the refresh token is expired: Token refreshes.
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh}).Token()
	if err != nil {
		return nil, cleanTokenError(err)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != t.refresh {
		t.refresh = tok.RefreshToken
		t.saveRefresh(ctx)
	}
	return tok, nil
}

// storedRefresh is the state store's record of a rotated refresh token.
// Replaces identifies (SHA-256) the refresh_token_file content it
// superseded: while the file still holds that, the stored token is the
// newer one; a file with other content is a new consent and wins. Content,
// not file times: systemd credentials get a new mtime at every start.
type storedRefresh struct {
	Token    string `json:"refresh_token"`
	Replaces string `json:"replaces"`
}

func fileID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// loadRefresh picks the refresh token once: the stored (rotated) one when
// refresh_token_file has not changed since, else the file's.
func (t *tokens) loadRefresh(ctx context.Context) error {
	if t.loaded {
		return nil
	}
	t.refresh = string(t.cfg.RefreshToken)
	if t.store != nil {
		infos, err := t.store.Infos(ctx)
		if err != nil {
			return fmt.Errorf("read the stored refresh token: %w", err)
		}
		var sr storedRefresh
		if in, ok := infos[t.storeKey()]; ok && json.Unmarshal([]byte(in.Value), &sr) == nil && sr.Token != "" {
			if sr.Replaces == fileID(t.refresh) {
				t.refresh = sr.Token
				t.log.Info("using the rotated refresh token from the state store (refresh_token_file is unchanged since)")
			} else {
				t.log.Info("refresh_token_file changed since the last rotation; using the file")
			}
		}
	}
	if t.refresh == "" {
		return errors.New("no refresh token (refresh_token_file is empty)")
	}
	t.loaded = true
	return nil
}

// saveRefresh keeps a rotated refresh token; the old one may already be
// void, so losing the new one would need a new consent.
func (t *tokens) saveRefresh(ctx context.Context) {
	if t.store == nil {
		t.log.Warn("the provider rotated the refresh token; it is kept in memory only (no state store)")
		return
	}
	b, _ := json.Marshal(storedRefresh{Token: t.refresh, Replaces: fileID(string(t.cfg.RefreshToken))})
	if err := t.store.SetInfo(ctx, t.storeKey(), string(b)); err != nil {
		t.log.Error("the provider rotated the refresh token and it could not be stored; after a restart refresh_token_file is used", "err", err)
		return
	}
	t.log.Info("the provider rotated the refresh token; stored the new one in the state store")
}

// cleanTokenError keeps the endpoint's error code and description and
// drops the response body, which is never shown.
func cleanTokenError(err error) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Code: oneLine(re.ErrorCode, 64), Description: oneLine(re.ErrorDescription, 300)}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		return te
	}
	return fmt.Errorf("%w: %w", ErrToken, err)
}

// oneLine makes endpoint text safe for a log line: no control characters,
// at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return strings.TrimSpace(s)
}
