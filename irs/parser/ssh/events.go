package ssh

import (
	"math"
	"strings"
	"time"

	"github.com/sdnli/sdnli/irs/event"
	"github.com/sdnli/sdnli/irs/parser"
)

// newEvent returns an event with the summary given.
func (p *conn) newEvent(typ string, start, end time.Time, summary map[string]any) *event.Event {
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
	ev := p.newEvent(TypeSession, p.start, p.end, make(map[string]any, sessionKeys))
	s := ev.Summary
	s["end_reason"] = reason.String()
	// SSH is always recognised by its version line; port 22 only adds
	// that the port agrees. A version line is unambiguous: confidence 1.
	s["detection"] = "content"
	if p.c.Server.Port() == 22 || p.c.Client.Port() == 22 {
		s["detection"] = "content+port"
	}
	s["detection_confidence"] = 1.0
	p.checkRoles()
	if p.reversed {
		s["reverse_ssh"] = true
	}
	s["duration_s"] = math.Round(p.end.Sub(p.start).Seconds()*1000) / 1000
	subject := []string{}
	for d := range p.h {
		h := &p.h[d]
		sk, dk := &sideKey[d], &dirKey[d]
		if h.ver != nil {
			s[sk.version] = h.ver.Raw
			s[sk.proto] = h.ver.Proto
			s[sk.software] = h.ver.Software
			if h.ver.Comments != "" {
				s[sk.comments] = h.ver.Comments
			}
			subject = append(subject, h.ver.Software)
		}
		if len(h.pre) > 0 {
			s[sk.preBanner] = h.pre
		}
		if h.kexErr != "" {
			s[sk.kexErr] = h.kexErr
		}
		if h.kex != nil {
			s[sk.kexinit] = h.kex.summary()
			str, sum := h.kex.hassh(d == int(parser.ServerToClient))
			if d == int(parser.ServerToClient) {
				s["hassh_server"] = sum
				s["hassh_server_string"] = str
			} else {
				s["hassh"] = sum
				s["hassh_string"] = str
			}
		}
		s[dk.bytes] = h.bytes
		s[dk.packets] = h.calls
		s[dk.encBytes] = h.encBytes
		s[dk.encPackets] = h.encCalls
		if !h.newkeys.IsZero() {
			s[dk.newkeys] = true
		}
		if f := h.frame; f.on && !f.lost {
			s[dk.sshPackets] = f.packets
		}
		if p.gaps[d] > 0 {
			s[dk.gaps] = p.gaps[d]
		}
	}
	if v := p.h[0].ver; v != nil {
		s["version"] = protoMajor(v.Proto, p.h[1].ver)
	}
	if a := p.alg; a != nil {
		s["kex_alg"] = a.Kex
		s["host_key_alg"] = a.HostKey
		for d := 0; d < 2; d++ {
			k := &dirKey[d]
			ci := a.Cipher[d]
			s[k.cipher] = a.Enc[d]
			// The MAC negotiated, as Zeek reports it; under an AEAD
			// cipher it goes unused (aead_* says so).
			s[k.mac] = a.Mac[d]
			s[k.compression] = a.Cmp[d]
			if ci.Known {
				s[k.blockSize] = ci.Block
				s[k.macLen] = ci.MacLen
				s[k.aead] = ci.AEAD
				s[k.etm] = ci.ETM
				s[k.length] = ci.LengthMode
				s[k.smallest] = ci.packetSize(1)
			}
		}
	}
	var acts []Activity
	if p.h[0].phase == phEncrypted || p.h[1].phase == phEncrypted {
		auth := p.tr.inferAuth()
		s["auth"] = auth.Result
		s["auth_attempts"] = auth.Attempts
		s["auth_evidence"] = auth.Evidence
		st := p.tr.inferSetup(auth)
		v := p.tr.classify(auth, st)
		s["verdict"] = v.Kind
		s["confidence"] = v.Confidence
		s["evidence"] = v.Evidence
		if v.FileProtocol != "" {
			s["file_protocol"] = v.FileProtocol
		}
		acts = v.Activities
		var list []map[string]any
		for _, a := range acts {
			list = append(list, activitySummary(p.start, a))
		}
		if len(list) > 0 {
			s["activities"] = list
		}
		subject = append(subject, v.Kind)
	} else if p.h[0].ver != nil || p.h[1].ver != nil {
		s["auth"] = AuthUnknown
		s["verdict"] = KindUnknown
		if p.h[0].phase == phOpaque || p.h[1].phase == phOpaque {
			s["reason"] = "not SSH-2 or framing lost before NEWKEYS"
		} else {
			s["reason"] = "the connection ended before the key exchange completed"
		}
	}
	ev.Subject = strings.Join(subject, " → ")
	if len(p.anom) > 0 {
		ev.Anomalies = append([]string(nil), p.anom...)
	}
	p.env.Emit(ev)
	for _, a := range acts {
		ae := p.newEvent(TypeActivity, p.start.Add(a.Start), p.start.Add(a.End), activitySummary(p.start, a))
		ae.Subject = a.Kind
		p.env.Emit(ae)
	}
}

func activitySummary(start time.Time, a Activity) map[string]any {
	return map[string]any{
		"kind":        a.Kind,
		"start":       start.Add(a.Start).UTC().Format(time.RFC3339Nano),
		"end":         start.Add(a.End).UTC().Format(time.RFC3339Nano),
		"bytes_c2s":   a.Bytes[0],
		"bytes_s2c":   a.Bytes[1],
		"packets_c2s": a.Recs[0],
		"packets_s2c": a.Recs[1],
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
