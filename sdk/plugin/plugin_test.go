package plugin_test

import (
	"errors"
	"testing"

	"github.com/hookhub/hookhub/sdk/abi"
	"github.com/hookhub/hookhub/sdk/plugin"
)

func TestCall(t *testing.T) {
	in := abi.AppendInput(nil, &abi.Input{Webhook: "w", Events: [][]byte{[]byte(`{}`)}})
	out, err := abi.DecodeOutput(plugin.Call(func(in *abi.Input) (*abi.Output, error) {
		return plugin.Send(abi.Request{ContentType: "text/plain", Body: []byte(in.Webhook)})
	}, in))
	if err != nil || string(out.Request.Body) != "w" {
		t.Errorf("send: %v %+v", err, out)
	}
	_, err = abi.DecodeOutput(plugin.Call(func(*abi.Input) (*abi.Output, error) { panic("boom") }, in))
	var ge *abi.GuestError
	if !errors.As(err, &ge) || ge.Msg != "plugin panicked: boom" {
		t.Errorf("panic: got %v", err)
	}
	_, err = abi.DecodeOutput(plugin.Call(func(*abi.Input) (*abi.Output, error) { return plugin.Skip() }, []byte("junk")))
	if !errors.As(err, &ge) {
		t.Errorf("malformed input: got %v, want a guest error", err)
	}
}
