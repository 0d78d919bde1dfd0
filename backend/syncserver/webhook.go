package syncserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Webhook posts each new alert, as JSON, to one URL: https, or http to a
// loopback address only (a relay on the same machine, or a test). It
// never blocks a request: alerts wait in a bounded queue, and each is
// tried up to WebhookAttempts times with a short timeout and a growing
// pause; what still fails is logged and stays in the alert list.
type Webhook struct {
	url    string
	client *http.Client
	log    *slog.Logger
	queue  chan Alert
	pause  time.Duration
	stop   chan struct{}
	done   sync.WaitGroup
	once   sync.Once
}

// Webhook limits.
const (
	WebhookTimeout  = 5 * time.Second
	WebhookAttempts = 5
	webhookQueue    = 1000
)

// WebhookPayload is the JSON body of a webhook call: the alert, with no
// patient data.
type WebhookPayload struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"`
	Source  string    `json:"source"`
	Clinic  string    `json:"clinic"`
	Device  string    `json:"device"`
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// CheckWebhookURL refuses a URL that is neither https nor http to a
// loopback address, or that carries credentials.
func CheckWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("the webhook is not an absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("the webhook URL may not hold a user name or password")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return u, nil
		}
		return nil, errors.New("the webhook must use https (plain http only to a loopback address)")
	}
	return nil, errors.New("the webhook must use https")
}

// NewWebhook starts posting alerts to raw (see CheckWebhookURL). client
// may be nil (a default one with WebhookTimeout; it follows no
// redirects). Close stops it.
func NewWebhook(raw string, client *http.Client, log *slog.Logger) (*Webhook, error) {
	u, err := CheckWebhookURL(raw)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Webhook{url: u.String(), client: client, log: log, queue: make(chan Alert, webhookQueue), pause: time.Second, stop: make(chan struct{})}
	w.done.Add(1)
	go w.run()
	return w, nil
}

// Notify queues a for posting; when the queue is full it is dropped
// (and logged): it is in the alert list all the same.
func (w *Webhook) Notify(a Alert) {
	select {
	case w.queue <- a:
	default:
		w.log.Warn("webhook queue full: alert not posted", "alert", a.ID, "kind", a.Kind)
	}
}

// Close stops posting; alerts still queued are dropped (they are in the
// alert list).
func (w *Webhook) Close() {
	w.once.Do(func() { close(w.stop) })
	w.done.Wait()
}

func (w *Webhook) run() {
	defer w.done.Done()
	for {
		select {
		case <-w.stop:
			return
		case a := <-w.queue:
			w.post(a)
		}
	}
}

// post tries to deliver a, pausing between attempts.
func (w *Webhook) post(a Alert) {
	body, err := json.Marshal(WebhookPayload{ID: a.ID, Kind: a.Kind, Source: a.Source, Clinic: a.Clinic, Device: a.Device, At: a.At.UTC(), Message: a.Message})
	if err != nil {
		w.log.Error("webhook", "alert", a.ID, "cause", err.Error())
		return
	}
	pause := w.pause
	for attempt := 1; ; attempt++ {
		err := w.send(body)
		if err == nil {
			w.log.Info("webhook posted", "alert", a.ID, "kind", a.Kind)
			return
		}
		if attempt == WebhookAttempts {
			w.log.Warn("webhook failed: alert not posted", "alert", a.ID, "kind", a.Kind, "attempts", attempt, "cause", err.Error())
			return
		}
		select {
		case <-w.stop:
			return
		case <-time.After(pause):
		}
		pause *= 2
	}
}

func (w *Webhook) send(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // without the URL, which may hold a secret
	}
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
