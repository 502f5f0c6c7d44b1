package ssh

import (
	"math"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// newEvent returns an event with the summary given.
func (p *conn) newEvent(typ string, start, end time.Time, summary event.Fields) *event.Event {
	if end.Before(start) {
		end = start
	}
	return &event.Event{Protocol: Name, Type: typ, Start: start, End: end, Transport: "tcp",
		Client: p.c.Client, Server: p.c.Server, Summary: summary}
}

// sessionKeys: an ssh-session summary of a whole connection has some 55
// keys. 56 is the most that fit the map's 64 slots (it fills them to 7/8);
// a larger hint would double them for every session.
const sessionKeys = 56

// sideKeys and dirKeys are the summary keys of each side ("client_...")
// and direction ("..._c2s"), built once rather than per event.
type sideKeys struct {
	version, proto, software, comments, preBanner, kexErr, kexinit string
}

type dirKeys struct {
	bytes, packets, encBytes, encPackets, newkeys, sshPackets, gaps string
	cipher, mac, compression, blockSize, macLen, aead, etm, length  string
	smallest                                                        string
}

var (
	sideKey = func() (k [2]sideKeys) {
		for d := range k {
			side := parser.Direction(d).String()
			k[d] = sideKeys{side + "_version", side + "_proto", side + "_software", side + "_comments",
				side + "_pre_banner_lines", side + "_kexinit_error", side + "_kexinit"}
		}
		return
	}()
	dirKey = func() (k [2]dirKeys) {
		for d, x := range [2]string{"c2s", "s2c"} {
			k[d] = dirKeys{"bytes_" + x, "packets_" + x, "encrypted_bytes_" + x, "encrypted_packets_" + x,
				"newkeys_" + x, "ssh_packets_" + x, "gaps_" + x,
				"cipher_" + x, "mac_" + x, "compression_" + x, "block_size_" + x, "mac_len_" + x, "aead_" + x,
				"etm_" + x, "length_" + x, "smallest_packet_" + x}
		}
		return
	}()
)

// emit builds the ssh-session event and one ssh-activity per activity.
func (p *conn) emit(reason parser.EndReason) {
	ev := p.newEvent(TypeSession, p.start, p.end, make(event.Fields, 0, sessionKeys))
	s := &ev.Summary
	s.Set("end_reason", reason.String())
	// SSH is always recognised by its version line; port 22 only adds
	// that the port agrees. A version line is unambiguous: confidence 1.
	s.Set("detection", "content")
	if p.c.Server.Port() == 22 || p.c.Client.Port() == 22 {
		s.Set("detection", "content+port")
	}
	s.Set("detection_confidence", 1.0)
	p.checkRoles()
	if p.reversed {
		s.Set("reverse_ssh", true)
	}
	s.Set("duration_s", math.Round(p.end.Sub(p.start).Seconds()*1000)/1000)
	subject := []string{}
	for d := range p.h {
		h := &p.h[d]
		sk, dk := &sideKey[d], &dirKey[d]
		if h.ver != nil {
			s.Set(sk.version, h.ver.Raw)
			s.Set(sk.proto, h.ver.Proto)
			s.Set(sk.software, h.ver.Software)
			if h.ver.Comments != "" {
				s.Set(sk.comments, h.ver.Comments)
			}
			subject = append(subject, h.ver.Software)
		}
		if len(h.pre) > 0 {
			s.Set(sk.preBanner, h.pre)
		}
		if h.kexErr != "" {
			s.Set(sk.kexErr, h.kexErr)
		}
		if h.kex != nil {
			s.Set(sk.kexinit, h.kex.summary())
			str, sum := h.kex.hassh(d == int(parser.ServerToClient))
			if d == int(parser.ServerToClient) {
				s.Set("hassh_server", sum)
				s.Set("hassh_server_string", str)
			} else {
				s.Set("hassh", sum)
				s.Set("hassh_string", str)
			}
		}
		s.Set(dk.bytes, h.bytes)
		s.Set(dk.packets, h.calls)
		s.Set(dk.encBytes, h.encBytes)
		s.Set(dk.encPackets, h.encCalls)
		if !h.newkeys.IsZero() {
			s.Set(dk.newkeys, true)
		}
		if f := h.frame; f.on && !f.lost {
			s.Set(dk.sshPackets, f.packets)
		}
		if p.gaps[d] > 0 {
			s.Set(dk.gaps, p.gaps[d])
		}
	}
	if v := p.h[0].ver; v != nil {
		s.Set("version", protoMajor(v.Proto, p.h[1].ver))
	}
	if a := p.alg; a != nil {
		s.Set("kex_alg", a.Kex)
		s.Set("host_key_alg", a.HostKey)
		for d := 0; d < 2; d++ {
			k := &dirKey[d]
			ci := a.Cipher[d]
			s.Set(k.cipher, a.Enc[d])
			// The MAC negotiated, as Zeek reports it; under an AEAD
			// cipher it goes unused (aead_* says so).
			s.Set(k.mac, a.Mac[d])
			s.Set(k.compression, a.Cmp[d])
			if ci.Known {
				s.Set(k.blockSize, ci.Block)
				s.Set(k.macLen, ci.MacLen)
				s.Set(k.aead, ci.AEAD)
				s.Set(k.etm, ci.ETM)
				s.Set(k.length, ci.LengthMode)
				s.Set(k.smallest, ci.packetSize(1))
			}
		}
	}
	var acts []Activity
	if p.h[0].phase == phEncrypted || p.h[1].phase == phEncrypted {
		auth := p.tr.inferAuth()
		s.Set("auth", auth.Result)
		s.Set("auth_attempts", auth.Attempts)
		s.Set("auth_evidence", auth.Evidence)
		st := p.tr.inferSetup(auth)
		v := p.tr.classify(auth, st)
		s.Set("verdict", v.Kind)
		s.Set("confidence", v.Confidence)
		s.Set("evidence", v.Evidence)
		if v.FileProtocol != "" {
			s.Set("file_protocol", v.FileProtocol)
		}
		acts = v.Activities
		var list []event.Fields
		for _, a := range acts {
			list = append(list, activitySummary(p.start, a))
		}
		if len(list) > 0 {
			s.Set("activities", list)
		}
		subject = append(subject, v.Kind)
	} else if p.h[0].ver != nil || p.h[1].ver != nil {
		s.Set("auth", AuthUnknown)
		s.Set("verdict", KindUnknown)
		if p.h[0].phase == phOpaque || p.h[1].phase == phOpaque {
			s.Set("reason", "not SSH-2 or framing lost before NEWKEYS")
		} else {
			s.Set("reason", "the connection ended before the key exchange completed")
		}
	}
	ev.Subject = strings.Join(subject, " → ")
	ev.Anomalies = p.anoms.Out()
	p.env.Emit(ev)
	for _, a := range acts {
		ae := p.newEvent(TypeActivity, p.start.Add(a.Start), p.start.Add(a.End), activitySummary(p.start, a))
		ae.Subject = a.Kind
		p.env.Emit(ae)
	}
}

func activitySummary(start time.Time, a Activity) event.Fields {
	return event.Fields{
		{Key: "kind", Value: a.Kind},
		{Key: "start", Value: start.Add(a.Start).UTC().Format(time.RFC3339Nano)},
		{Key: "end", Value: start.Add(a.End).UTC().Format(time.RFC3339Nano)},
		{Key: "bytes_c2s", Value: a.Bytes[0]},
		{Key: "bytes_s2c", Value: a.Bytes[1]},
		{Key: "packets_c2s", Value: a.Recs[0]},
		{Key: "packets_s2c", Value: a.Recs[1]},
	}
}

// protoMajor is the protocol version both sides speak: 2 when both offer
// 2.0 (or 1.99), 1 otherwise (as Zeek's ssh.log "version").
func protoMajor(client string, srv *banner) int {
	if srv == nil {
		if client == "1.99" || client == "2.0" {
			return 2
		}
		return 1
	}
	ok := func(p string) bool { return p == "2.0" || p == "1.99" }
	if ok(client) && ok(srv.Proto) {
		return 2
	}
	return 1
}
