package mcpclient

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// The recorder must find events however the SSE stream is cut and
// whichever line endings it uses.
func TestTeeBodySSE(t *testing.T) {
	resp := `{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"a"}]}}`
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		stream := "event: message" + eol + "id: 1" + eol + "data: " + resp + eol + eol +
			"data: {\"jsonrpc\":\"2.0\"," + eol + "data: \"id\":8,\"result\":{}}" + eol + eol
		for _, chunk := range []int{1, 2, 3, 7, len(stream)} {
			w := &wireRecorder{pending: map[jsonrpc.ID]bool{rpcID(7): true, rpcID(8): true}}
			tb := newTeeBody(nil, w, func() {}, true, false)
			for i := 0; i < len(stream); i += chunk {
				tb.feed([]byte(stream[i:min(i+chunk, len(stream))]), false)
			}
			tb.feed(nil, true)
			first, ok1 := w.take()
			second, ok2 := w.take()
			if !ok1 || string(first) != `{"tools":[{"name":"a"}]}` || !ok2 || string(second) != `{}` {
				t.Errorf("eol %q chunk %d: got %s %v, %s %v", eol, chunk, first, ok1, second, ok2)
			}
		}
	}
}

func rpcID(n float64) jsonrpc.ID {
	id, err := jsonrpc.MakeID(n)
	if err != nil {
		panic(err)
	}
	return id
}
