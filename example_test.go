package parley_test

import (
	"errors"
	"fmt"

	"github.com/parley-chat/parley"
)

// A store classifies the errors its callers branch on; the layers above add
// context with %w, and the edge (HTTP, WebSocket) turns the kind into a
// status, the code into an error frame, and shows only the message.
func ExampleKindOf() {
	err := fmt.Errorf("join %q: %w", "lobby", parley.Errorf(parley.NotFound, "There is no room named %q.", "lobby"))
	fmt.Println(parley.KindOf(err), parley.CodeOf(err))
	fmt.Println(parley.MessageOf(err))

	// A code tells clients more than the kind.
	err = parley.ValidateText(" ")
	fmt.Println(parley.KindOf(err), parley.CodeOf(err))
	fmt.Println(parley.MessageOf(err))

	// Anything unclassified is Internal, and its details stay in the logs.
	err = fmt.Errorf("read room: %w", errors.New("disk I/O error"))
	fmt.Println(parley.KindOf(err), parley.CodeOf(err))
	fmt.Println(parley.MessageOf(err))
	// Output:
	// not_found not_found
	// There is no room named "lobby".
	// invalid empty_message
	// Message text is empty.
	// internal internal
	// Something went wrong.
}
