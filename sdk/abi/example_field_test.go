package abi_test

import (
	"fmt"

	"github.com/hookhub/hookhub/sdk/abi"
)

// A plugin reads the event's fields with Get, without decoding the event,
// and copies a string field's raw JSON into its answer.
func ExampleInput_Get() {
	in := &abi.Input{Events: [][]byte{[]byte(`{"type":"contact.updated","data":{"email":"ada@example.com","score":42,"tags":["vip"]}}`)}}
	email := in.Get("data.email")
	body := append(append([]byte(`{"email":`), email.Raw()...), '}')
	fmt.Println(in.Get("type").String(), in.Get("data.score").Int(), in.Get("data.tags.0").String(), in.Get("data.phone").Exists())
	fmt.Println(string(body))
	// Output:
	// contact.updated 42 vip false
	// {"email":"ada@example.com"}
}
