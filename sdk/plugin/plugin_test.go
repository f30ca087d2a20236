package plugin_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
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

// TestTemplateLinksNoFmt: the SDK's packages a plugin links (and the Go
// kit's template) leave out fmt, which adds 0.65 MB to a module: some
// 50 ms to every load of it (hookhub plugin run) and 8 MiB to a worker.
func TestTemplateLinksNoFmt(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "github.com/hookhub/hookhub/sdk/template")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if slices.Contains(strings.Fields(string(out)), "fmt") {
		t.Error("the template, built for wasip1, links fmt")
	}
}

type nilErr struct{ msg *string }

func (e *nilErr) Error() string { return *e.msg }

// TestPanicTextAsFmt: a panic's value reads as fmt's %v writes it, for the
// values a plugin panics with, and a nil error's Error that panics in turn
// gives "<nil>" instead of trapping the module.
func TestPanicTextAsFmt(t *testing.T) {
	for _, v := range []any{errors.New("boom"), "boom", 42, int64(-5), uint32(7), 1.5, float32(0.25), true} {
		in := abi.AppendInput(nil, &abi.Input{Webhook: "w", Events: [][]byte{[]byte(`{}`)}})
		_, err := abi.DecodeOutput(plugin.Call(func(*abi.Input) (*abi.Output, error) { panic(v) }, in))
		if want := fmt.Sprintf("plugin panicked: %v", v); err == nil || err.Error() != want {
			t.Errorf("panic(%#v): %v, want %q", v, err, want)
		}
	}
	in := abi.AppendInput(nil, &abi.Input{Webhook: "w", Events: [][]byte{[]byte(`{}`)}})
	_, err := abi.DecodeOutput(plugin.Call(func(*abi.Input) (*abi.Output, error) { panic(&nilErr{}) }, in))
	if err == nil || err.Error() != "plugin panicked: <nil>" {
		t.Errorf("a nil error's panic: %v", err)
	}
}
