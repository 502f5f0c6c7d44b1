package mailproto

import (
	"fmt"
	"testing"

	"github.com/sdnli/sdnli/irs/event"
)

func TestUnknown(t *testing.T) {
	var none Unknown
	s := SummaryOf(&event.Event{})
	none.Put(s)
	if len(*s.Fields) != 0 {
		t.Errorf("no unknown commands: summary %v; want empty", s)
	}

	var u Unknown
	u.Add("XFOO", false)
	u.Add("XFOO", false)
	u.Add("\x01\x02", true)
	u.Add("??", true)
	for i := 0; i < MaxUnknown+3; i++ {
		u.Add(fmt.Sprintf("X%d", i), false)
	}
	s = SummaryOf(&event.Event{})
	u.Put(s)
	names, _ := s.Get("unknown_commands").([]string)
	if len(names) != MaxUnknown {
		t.Errorf("%d names; want %d (the cap)", len(names), MaxUnknown)
	}
	if len(names) >= 2 && (names[0] != "XFOO" || names[1] != "(malformed)") {
		t.Errorf("names start %q; want XFOO, (malformed) once each", names[:2])
	}
	if got, want := s.Get("unknown_command_count"), 4+MaxUnknown+3; got != want {
		t.Errorf("unknown_command_count %v; want %d (every command counted)", got, want)
	}
}
