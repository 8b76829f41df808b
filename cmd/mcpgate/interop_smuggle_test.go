package main

// interop_smuggle_test.go: issue 14's class 1 against the real TS, Python
// and Go SDK servers. A tools/call of a tool outside the allowlist that
// also carries a result or error member is a request to the server
// whatever else it carries; through a passive gateway the test records
// which SDK servers execute it, and through an active gateway it must be
// refused without the tool ever running.

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	auditlog "github.com/mcpgate/mcpgate/audit"
)

// smuggledCalls are tools/call requests of secret_admin with a member a
// request must not have, alone and in a batch, and which SDK servers
// execute each when nothing stops it (observed with the versions `make
// interop` and go.mod pin: the TS SDK refuses every one as an invalid
// message; the Python SDK runs the call when it carries a result and takes
// it for a response when it carries an error; the Go SDK runs all three;
// none accepts a batch).
var smuggledCalls = []struct {
	name, body string
	modern     bool            // sent as a 2026-07-28 request, without a session
	runs       map[string]bool // SDK → executes it
}{
	{"result-object", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{}},"result":{}}`,
		false, map[string]bool{"py": true, "go": true}},
	{"result-null", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{}},"result":null}`,
		false, map[string]bool{"py": true, "go": true}},
	{"error", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{}},"error":{"code":-32000,"message":"x"}}`,
		false, map[string]bool{"go": true}},
	{"batch-result-object", `[{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{}},"result":{}}]`,
		false, nil},
	// The 2026-07-28 protocol has no session: each request carries its
	// version and capabilities in _meta. Only the Python SDK server speaks
	// it, and on this path it runs the call even when it carries an error.
	{"modern-result-object", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{},` + modernMeta + `},"result":{}}`,
		true, map[string]bool{"py": true}},
	{"modern-result-null", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{},` + modernMeta + `},"result":null}`,
		true, map[string]bool{"py": true}},
	{"modern-error", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{},` + modernMeta + `},"error":{"code":-32000,"message":"x"}}`,
		true, map[string]bool{"py": true}},
}

// modernMeta is the per-request envelope of the 2026-07-28 protocol.
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

// plainCall is the control: the same call without the smuggled member.
const plainCall = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"secret_admin","arguments":{}}}`

func TestInteropSmuggle(t *testing.T) {
	envoyBinary(t)
	for _, sdk := range []string{"ts", "py", "go"} {
		t.Run(sdk, func(t *testing.T) {
			t.Parallel()
			var upstream, execLog string
			if sdk == "go" {
				upstream, execLog = startGoSDKServer(t)
			} else {
				upstream, execLog = startSDKServer(t, sdk)
			}
			for _, mode := range []string{"passive", "active"} {
				t.Run(mode, func(t *testing.T) {
					gw, _ := startGateway(t, "--upstream", upstream, "--listen", "127.0.0.1:0",
						"--config", interopPolicy(t, []string{"echo"}), "--mode", mode)
					session := handshake(t, gw)
					// The control shows the execution record works: a passive
					// gateway lets the plain call run, an active one refuses it.
					ran := smuggleOnce(t, gw, session, execLog, plainCall)
					if ran != (mode == "passive") {
						t.Fatalf("plain secret_admin call: executed=%v in %s mode", ran, mode)
					}
					for _, c := range smuggledCalls {
						t.Run(c.name, func(t *testing.T) {
							post := func() string { b, _ := postSession(t, gw, session, c.body); return b }
							if c.modern {
								post = func() string { return postModern(t, gw, c.body) }
							}
							ran, body := smuggleOnceBody(t, execLog, post)
							if mode == "passive" {
								t.Logf("passive: the %s SDK server executed secret_admin for %s: %v (answer %q)", sdk, c.name, ran, auditlog.Truncate(body, 160))
								// Only what reached the server shows the SDK's harm;
								// a gateway may refuse a malformed message in
								// passive mode too.
								if !strings.Contains(body, "mcpgate") && ran != c.runs[sdk] {
									t.Errorf("passive: the %s SDK server executed=%v for %s, want %v; answer %q", sdk, ran, c.name, c.runs[sdk], auditlog.Truncate(body, 200))
								}
								return
							}
							if ran {
								t.Errorf("active: the %s SDK server executed secret_admin for %s; answer %q", sdk, c.name, auditlog.Truncate(body, 200))
							}
							if !strings.Contains(body, `"error"`) || !strings.Contains(body, "mcpgate") {
								t.Errorf("active: %s not refused by the gateway; answer %q", c.name, auditlog.Truncate(body, 200))
							}
						})
					}
				})
			}
		})
	}
}

// smuggleOnce posts body on the session and reports whether the server
// executed secret_admin for it.
func smuggleOnce(t *testing.T, gw, session, execLog, body string) bool {
	t.Helper()
	ran, _ := smuggleOnceBody(t, execLog, func() string { b, _ := postSession(t, gw, session, body); return b })
	return ran
}

// smuggleOnceBody runs post and reports whether the server executed
// secret_admin meanwhile, and what post returned.
func smuggleOnceBody(t *testing.T, execLog string, post func() string) (bool, string) {
	t.Helper()
	before := executions(t, execLog, "secret_admin")
	answer := post()
	if !strings.Contains(answer, "secret_admin ran") {
		// A server that did not answer with the result may still run the
		// tool after answering 202; give it the time a call takes.
		time.Sleep(300 * time.Millisecond)
	}
	return executions(t, execLog, "secret_admin") > before, answer
}

// postModern posts body as a 2026-07-28 tools/call of secret_admin: no
// session, the routing headers that version requires.
func postModern(t *testing.T, u, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", "secret_admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
