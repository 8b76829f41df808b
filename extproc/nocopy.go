package extproc

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// parseJSON parses b without copying it (gjson.ParseBytes copies the
// whole body into a string first, the one cost of the pass path that grew
// with the body). The results point into b, so b must never be written to
// afterwards: bodies come from decoded gRPC messages the gateway does not
// modify or from buffers it lets go of, and SSE events from sseSplitter,
// which promises the same (see feed). Strings kept beyond the exchange are
// copies ([]byte(r.Raw)) or decoded anew.
func parseJSON(b []byte) gjson.Result {
	return gjson.Parse(unsafe.String(unsafe.SliceData(b), len(b)))
}
