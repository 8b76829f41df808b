package stdiobridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

const sessionHeader = "Mcp-Session-Id"

// JSON-RPC error codes the bridge answers with.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeInternalError  = -32603
)

// ServeHTTP is the Streamable HTTP endpoint: POST carries client
// messages, GET opens the stream for server messages, DELETE ends a
// session.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != b.cfg.Path {
		http.NotFound(w, r)
		return
	}
	if err := b.checkHost(r); err != nil {
		http.Error(w, "Forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodPost:
		b.servePost(w, r)
	case http.MethodGet:
		b.serveGet(w, r)
	case http.MethodDelete:
		b.serveDelete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

// checkHost is the DNS-rebinding guard: Host and any Origin must be
// loopback or allowed.
func (b *Bridge) checkHost(r *http.Request) error {
	if !b.hostAllowed(r.Host) {
		return fmt.Errorf("invalid Host header %q", r.Host)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !b.hostAllowed(u.Host) {
			return fmt.Errorf("invalid Origin header %q", o)
		}
	}
	return nil
}

func (b *Bridge) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range b.cfg.AllowedHosts {
		if a == "*" || strings.EqualFold(a, hostport) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// accepts reports which response types the client takes; no Accept
// header takes both.
func accepts(r *http.Request) (jsonOK, sseOK bool) {
	vals := r.Header.Values("Accept")
	if len(vals) == 0 {
		return true, true
	}
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				sseOK = true
			case "*/*":
				jsonOK, sseOK = true, true
			}
		}
	}
	return jsonOK, sseOK
}

func (b *Bridge) servePost(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	jsonOK, sseOK := accepts(r)
	if !jsonOK && !sseOK {
		http.Error(w, "Accept must contain application/json or text/event-stream", http.StatusNotAcceptable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(b.cfg.MaxMessageBytes)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", mbe.Limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	line, err := oneLine(bytes.TrimSpace(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, nil, codeParseError, "Parse error: "+err.Error())
		return
	}
	msgs, batch, err := splitBody(line)
	if err != nil {
		writeError(w, http.StatusBadRequest, nil, codeParseError, "Parse error: "+err.Error())
		return
	}
	firstID := msgs[0].rawID
	var s *session
	if id := r.Header.Get(sessionHeader); id != "" {
		if s = b.lookup(id); s == nil {
			writeError(w, http.StatusNotFound, firstID, codeInvalidRequest, "Session not found")
			return
		}
	} else {
		if batch || msgs[0].method != "initialize" {
			writeError(w, http.StatusBadRequest, firstID, codeInvalidRequest,
				"Bad Request: "+sessionHeader+" header required (this stdio server is stateful: send initialize first)")
			return
		}
		if s, err = b.take(); err != nil {
			status := http.StatusServiceUnavailable
			if errors.Is(err, errTooMany) {
				status = http.StatusTooManyRequests
			}
			writeError(w, status, firstID, codeInternalError, "cannot start a session: "+err.Error())
			return
		}
		w.Header().Set(sessionHeader, s.id)
	}
	ex, err := s.post(r.Context(), msgs, sseOK)
	switch {
	case errors.Is(err, errSessionEnded):
		writeError(w, http.StatusNotFound, firstID, codeInvalidRequest, "Session not found")
		return
	case errors.Is(err, errDuplicateID):
		writeError(w, http.StatusBadRequest, firstID, codeInvalidRequest, err.Error())
		return
	case err != nil:
		return // the client went away
	case ex == nil:
		w.WriteHeader(http.StatusAccepted)
		return
	}
	b.respond(w, r.Context(), s, ex, jsonOK)
}

// respond answers a POST: one response alone as application/json, or
// everything for the exchange as an SSE stream.
func (b *Bridge) respond(w http.ResponseWriter, ctx context.Context, s *session, ex *exchange, jsonOK bool) {
	defer s.forget(ex)
	first, ok := ex.box.next(ctx)
	if !ok {
		switch {
		case ctx.Err() != nil:
		case s.isCancelled(ex):
			// The client cancelled: it waits for nothing more.
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
		default:
			writeError(w, http.StatusBadGateway, ex.rawIDs[0], codeInternalError, "stdio server session ended before responding")
		}
		return
	}
	if !ex.sse || (jsonOK && s.done(ex) && !ex.box.pending() && len(ex.ids) == 1) {
		w.Header().Set("Content-Type", "application/json")
		if len(ex.ids) == 1 {
			w.Write(first)
			return
		}
		// A batch without SSE: the responses as a JSON array, each as sent.
		parts := [][]byte{first}
		for {
			m, ok := ex.box.next(ctx)
			if !ok {
				break
			}
			parts = append(parts, m)
		}
		w.Write(append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']'))
		return
	}
	writeSSEHeaders(w)
	for msg, ok := first, true; ok; msg, ok = ex.box.next(ctx) {
		if !writeEvent(w, msg) {
			return
		}
	}
}

func (b *Bridge) serveGet(w http.ResponseWriter, r *http.Request) {
	if _, sseOK := accepts(r); !sseOK {
		http.Error(w, "Accept must contain text/event-stream", http.StatusNotAcceptable)
		return
	}
	s := b.sessionOf(w, r)
	if s == nil {
		return
	}
	box := newMailbox(b.cfg.Backlog)
	if err := s.openStream(box); err != nil {
		http.Error(w, "Session not found", http.StatusNotFound)
		return
	}
	defer s.closeStream(box)
	writeSSEHeaders(w)
	for {
		msg, ok := box.next(r.Context())
		if !ok || !writeEvent(w, msg) {
			return
		}
	}
}

func (b *Bridge) serveDelete(w http.ResponseWriter, r *http.Request) {
	if s := b.sessionOf(w, r); s != nil {
		b.endSession(s)
		w.WriteHeader(http.StatusNoContent)
	}
}

// sessionOf finds the request's session or answers 400/404.
func (b *Bridge) sessionOf(w http.ResponseWriter, r *http.Request) *session {
	id := r.Header.Get(sessionHeader)
	if id == "" {
		http.Error(w, "Bad Request: "+sessionHeader+" header required", http.StatusBadRequest)
		return nil
	}
	s := b.lookup(id)
	if s == nil {
		http.Error(w, "Session not found", http.StatusNotFound)
	}
	return s
}

func writeSSEHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// writeEvent writes one message as an SSE event, its bytes as the data.
func writeEvent(w http.ResponseWriter, msg []byte) bool {
	buf := make([]byte, 0, len(msg)+24)
	buf = append(buf, "event: message\ndata: "...)
	buf = append(append(buf, msg...), "\n\n"...)
	if _, err := w.Write(buf); err != nil {
		return false
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

// writeError answers with a JSON-RPC error, marshalled (never formatted).
func writeError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string) {
	type rpcError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcError        `json:"error"`
	}{"2.0", id, rpcError{code, msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
