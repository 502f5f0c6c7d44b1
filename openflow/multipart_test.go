package openflow

import (
	"errors"
	"reflect"
	"testing"
)

func TestReassemble(t *testing.T) {
	f := func(prio uint16) FlowStats {
		return FlowStats{Priority: prio, Match: mustMatch(t, InPort(uint32(prio)))}
	}
	part := func(more bool, flows ...FlowStats) *MultipartReply {
		r := &MultipartReply{Body: &FlowStatsReply{Flows: flows}}
		if more {
			r.Flags = MultipartMore
		}
		return r
	}
	first, second := part(true, f(1), f(2)), part(false, f(3))
	got, err := Reassemble([]*MultipartReply{first, second})
	if err != nil {
		t.Fatalf("Reassemble: %v", err)
	}
	want := &MultipartReply{Body: &FlowStatsReply{Flows: []FlowStats{f(1), f(2), f(3)}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Reassemble = %#v, want %#v", got, want)
	}
	if n := len(first.Body.(*FlowStatsReply).Flows); n != 2 {
		t.Errorf("Reassemble changed the first part: %d flows", n)
	}

	three := []*MultipartReply{
		{Flags: MultipartMore, Body: &PortDescReply{Ports: []Port{samplePort(1, "a")}}},
		{Flags: MultipartMore, Body: &PortDescReply{}},
		{Body: &PortDescReply{Ports: []Port{samplePort(2, "b")}}},
	}
	if got, err := Reassemble(three); err != nil || len(got.Body.(*PortDescReply).Ports) != 2 {
		t.Errorf("three port parts: %v, %v", got, err)
	}

	tests := []struct {
		name  string
		parts []*MultipartReply
	}{
		{"none", nil},
		{"last says more", []*MultipartReply{part(true, f(1))}},
		{"middle ends", []*MultipartReply{part(false, f(1)), part(false, f(2))}},
		{"mixed types", []*MultipartReply{part(true, f(1)), {Body: &PortDescReply{}}}},
		{"desc in parts", []*MultipartReply{{Flags: MultipartMore, Body: &DescReply{}}, {Body: &DescReply{}}}},
		{"nil body", []*MultipartReply{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Reassemble(tt.parts); !errors.Is(err, ErrInvalid) {
				t.Errorf("Reassemble error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestMultipartMergeEveryListType(t *testing.T) {
	bodies := []MultipartReplyBody{
		&FlowStatsReply{Flows: []FlowStats{{Priority: 1}}},
		&TableStatsReply{Tables: []TableStats{{TableID: 1}}},
		&PortStatsReply{Ports: []PortStats{{PortNo: 1}}},
		&QueueStatsReply{Queues: []QueueStats{{QueueID: 1}}},
		&GroupStatsReply{Groups: []GroupStats{{GroupID: 1}}},
		&GroupDescReply{Groups: []GroupDesc{{GroupID: 1}}},
		&MeterStatsReply{Meters: []MeterStats{{MeterID: 1}}},
		&MeterConfigReply{Meters: []MeterConfig{{MeterID: 1}}},
		&TableFeaturesReply{Data: []byte{1}},
		&PortDescReply{Ports: []Port{{PortNo: 1}}},
		&ExperimenterMultipartReply{Experimenter: 1, Data: []byte{1}},
	}
	for _, b := range bodies {
		t.Run(b.MultipartType().String(), func(t *testing.T) {
			got, err := Reassemble([]*MultipartReply{{Flags: MultipartMore, Body: b}, {Body: b}})
			if err != nil {
				t.Fatalf("Reassemble: %v", err)
			}
			if v := reflect.ValueOf(got.Body).Elem().Field(0); v.Kind() == reflect.Slice && v.Len() != 2 {
				t.Errorf("merged %d entries, want 2", v.Len())
			}
			if err := got.Body.merge(&DescReply{}); !errors.Is(err, ErrInvalid) {
				t.Errorf("merge of a foreign body: %v, want ErrInvalid", err)
			}
		})
	}
}
