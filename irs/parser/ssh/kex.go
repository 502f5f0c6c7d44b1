package ssh

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/sdnli/sdnli/irs/event"
)

// Message numbers read in clear (RFC 4250 §4.1.2).
const (
	msgKexInit = 20
	msgNewKeys = 21
)

// maxNameList caps one name-list: longer ones are hostile.
const maxNameList = 8192

// kexInit is one side's SSH_MSG_KEXINIT (RFC 4253 §7.1).
type kexInit struct {
	Cookie          string // hex
	FirstKexFollows bool
	// raw holds the ten name-lists as sent, in message order: the summary
	// and HASSH use them as they are, negotiateList reads them in place.
	raw [10]string
}

// splitKexInit is a KEXINIT with its name-lists split (parseKexInit); the
// connection keeps only the kexInit.
type splitKexInit struct {
	*kexInit
	Kex, HostKey     []string
	EncC2S, EncS2C   []string
	MacC2S, MacS2C   []string
	CmpC2S, CmpS2C   []string
	LangC2S, LangS2C []string
}

var errShort = errors.New("truncated")

// parseKexInit decodes the payload of a KEXINIT message (type byte first)
// and splits its name-lists into the slices.
func parseKexInit(p []byte) (*splitKexInit, error) {
	ki, err := readKexInit(p)
	if err != nil {
		return nil, err
	}
	k := &splitKexInit{kexInit: ki}
	total := 0
	for _, s := range k.raw {
		if s != "" {
			total += 1 + strings.Count(s, ",")
		}
	}
	// one shared slice for the ten lists
	all := make([]string, 0, total)
	var lists [10][]string
	for i, s := range k.raw {
		if s == "" {
			continue
		}
		from := len(all)
		for name := range names(s) {
			all = append(all, name)
		}
		lists[i] = all[from:len(all):len(all)]
	}
	k.Kex, k.HostKey = lists[0], lists[1]
	k.EncC2S, k.EncS2C, k.MacC2S, k.MacS2C = lists[2], lists[3], lists[4], lists[5]
	k.CmpC2S, k.CmpS2C, k.LangC2S, k.LangS2C = lists[6], lists[7], lists[8], lists[9]
	return k, nil
}

// readKexInit decodes the payload of a KEXINIT message (type byte first)
// without splitting the name-lists: the connection needs them only as
// sent (summary, HASSH) and to negotiate, which negotiateList does on the
// comma-separated text. The cookie's hex and the lists are one string.
func readKexInit(p []byte) (*kexInit, error) {
	if len(p) < 17 || p[0] != msgKexInit {
		return nil, fmt.Errorf("ssh: kexinit: %w", errShort)
	}
	cookie := p[1:17]
	p = p[17:]
	names := [...]string{"kex_algorithms", "server_host_key_algorithms", "encryption_algorithms_client_to_server",
		"encryption_algorithms_server_to_client", "mac_algorithms_client_to_server", "mac_algorithms_server_to_client",
		"compression_algorithms_client_to_server", "compression_algorithms_server_to_client",
		"languages_client_to_server", "languages_server_to_client"}
	var bounds [10][2]int // each list's offsets in p
	off := 0
	for i := range bounds {
		if len(p)-off < 4 {
			return nil, fmt.Errorf("ssh: kexinit: %s: %w", names[i], errShort)
		}
		n := binary.BigEndian.Uint32(p[off:])
		off += 4
		if n > maxNameList || int(n) > len(p)-off {
			return nil, fmt.Errorf("ssh: kexinit: %s: length %d beyond the message", names[i], n)
		}
		l := p[off : off+int(n)]
		if !printableASCII(l) {
			return nil, fmt.Errorf("ssh: kexinit: %s: not a name-list", names[i])
		}
		bounds[i] = [2]int{off, off + int(n)}
		off += int(n)
	}
	if len(p)-off < 1 {
		return nil, fmt.Errorf("ssh: kexinit: first_kex_packet_follows: %w", errShort)
	}
	const hexLen = 2 * 16
	var sb strings.Builder
	sb.Grow(hexLen + off)
	var hx [hexLen]byte
	hex.Encode(hx[:], cookie)
	sb.Write(hx[:])
	sb.Write(p[:off])
	text := sb.String()
	k := &kexInit{Cookie: text[:hexLen], FirstKexFollows: p[off] != 0}
	for i, b := range bounds {
		k.raw[i] = text[hexLen+b[0] : hexLen+b[1]]
	}
	return k, nil
}

// names yields the names of a comma-separated name-list, as
// strings.Split would but without its slice; nothing for "".
func names(list string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		if list == "" {
			return
		}
		for {
			j := strings.IndexByte(list, ',')
			if j < 0 {
				yield(list)
				return
			}
			if !yield(list[:j]) {
				return
			}
			list = list[j+1:]
		}
	}
}

// printableASCII reports whether every byte of s is in 0x20..0x7e. A
// KEXINIT's lists run to a kilobyte or two: eight bytes are tested at a
// time, with the usual word tricks for "some byte below 0x20"
// ((w - 0x20…) &^ w & 0x80…) and "some byte above 0x7e"
// ((w + 0x01…) | w) & 0x80…, both exact for these bounds.
func printableASCII(s []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(s) >= 8 {
		w := binary.LittleEndian.Uint64(s)
		if (w-0x20*ones)&^w&highs != 0 || ((w+ones)|w)&highs != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// summary renders every name-list as the comma-joined string sent.
func (k *kexInit) summary() event.Fields {
	return event.Fields{
		{Key: "cookie", Value: k.Cookie},
		{Key: "kex_algorithms", Value: k.raw[0]},
		{Key: "server_host_key_algorithms", Value: k.raw[1]},
		{Key: "encryption_c2s", Value: k.raw[2]},
		{Key: "encryption_s2c", Value: k.raw[3]},
		{Key: "mac_c2s", Value: k.raw[4]},
		{Key: "mac_s2c", Value: k.raw[5]},
		{Key: "compression_c2s", Value: k.raw[6]},
		{Key: "compression_s2c", Value: k.raw[7]},
		{Key: "languages_c2s", Value: k.raw[8]},
		{Key: "languages_s2c", Value: k.raw[9]},
		{Key: "first_kex_packet_follows", Value: k.FirstKexFollows},
	}
}

// hassh returns the HASSH string and its MD5 (hex): kex;enc;mac;cmp of
// the direction this side sends in — client to server for the client's
// KEXINIT (HASSH), server to client for the server's (HASSH-server).
func (k *kexInit) hassh(server bool) (str, sum string) {
	enc, mac, cmp := k.raw[2], k.raw[4], k.raw[6]
	if server {
		enc, mac, cmp = k.raw[3], k.raw[5], k.raw[7]
	}
	// built in a stack buffer (or, for long lists, one of the exact
	// size) that is hashed, then kept as the string
	var scratch [2048]byte
	b := scratch[:0]
	if n := len(k.raw[0]) + len(enc) + len(mac) + len(cmp) + 3; n > len(scratch) {
		b = make([]byte, 0, n)
	}
	b = append(b, k.raw[0]...)
	b = append(append(b, ';'), enc...)
	b = append(append(b, ';'), mac...)
	b = append(append(b, ';'), cmp...)
	h := md5.Sum(b)
	return string(b), hex.EncodeToString(h[:])
}

// negotiate picks the first algorithm of the client's list that the
// server's list also holds (RFC 4253 §7.1); "" when none.
func negotiate(client, server []string) string {
	for _, c := range client {
		for _, s := range server {
			if c == s {
				return c
			}
		}
	}
	return ""
}

// negotiateList is negotiate over two name-lists as sent (comma-separated).
func negotiateList(client, server string) string {
	for c := range names(client) {
		for s := range names(server) {
			if c == s {
				return c
			}
		}
	}
	return ""
}

// algorithms is what one KEX negotiated.
type algorithms struct {
	Kex, HostKey     string
	Enc, Mac, Cmp    [2]string // indexed by parser.Direction
	Cipher           [2]cipherInfo
	negotiationFails []string
}

// swapped exchanges the two directions' results.
func (a algorithms) swapped() algorithms {
	a.Enc[0], a.Enc[1] = a.Enc[1], a.Enc[0]
	a.Mac[0], a.Mac[1] = a.Mac[1], a.Mac[0]
	a.Cmp[0], a.Cmp[1] = a.Cmp[1], a.Cmp[0]
	a.Cipher[0], a.Cipher[1] = a.Cipher[1], a.Cipher[0]
	return a
}

// negotiated derives the algorithms from both KEXINITs.
func negotiated(cli, srv *kexInit) algorithms {
	var a algorithms
	pick := func(name string, c, s string) string {
		v := negotiateList(c, s)
		if v == "" {
			a.negotiationFails = append(a.negotiationFails, name)
		}
		return v
	}
	// raw: kex, host key, then c2s and s2c of cipher, MAC, compression
	a.Kex = pick("kex", cli.raw[0], srv.raw[0])
	a.HostKey = pick("host key", cli.raw[1], srv.raw[1])
	a.Enc[0] = pick("cipher client to server", cli.raw[2], srv.raw[2])
	a.Enc[1] = pick("cipher server to client", cli.raw[3], srv.raw[3])
	a.Mac[0] = pick("MAC client to server", cli.raw[4], srv.raw[4])
	a.Mac[1] = pick("MAC server to client", cli.raw[5], srv.raw[5])
	a.Cmp[0] = pick("compression client to server", cli.raw[6], srv.raw[6])
	a.Cmp[1] = pick("compression server to client", cli.raw[7], srv.raw[7])
	for d := 0; d < 2; d++ {
		a.Cipher[d] = describe(a.Enc[d], a.Mac[d])
	}
	return a
}

// Length modes: how the 4-byte packet length travels after NEWKEYS.
const (
	lenEncrypted = "encrypted"            // with the rest of the packet (CTR/CBC + classic MAC)
	lenSeparate  = "separately-encrypted" // chacha20-poly1305: its own key, still hidden
	lenClear     = "cleartext"            // ETM MACs and AES-GCM: length readable
)

// cipherInfo is what a direction's cipher and MAC mean for packet sizes.
type cipherInfo struct {
	Known      bool   // both names are known to this package
	Block      int    // cipher block size (8 for stream ciphers, per RFC 4253 §6)
	MacLen     int    // bytes of MAC or AEAD tag after each packet
	AEAD       bool   // cipher authenticates itself (MAC ignored)
	ETM        bool   // encrypt-then-MAC
	LengthMode string // lenEncrypted, lenSeparate, lenClear
}

// packetSize returns the bytes on the wire of a packet with a payload of
// n bytes, padded as OpenSSH pads: the minimum padding of 4 bytes, up to
// the block size, over the packet without its length field when the
// length is outside the encryption (AEAD, ETM) and with it otherwise.
// (OpenSSH does not round AEAD packets up to RFC 4253's 16 bytes: its
// USERAUTH_SUCCESS under chacha20-poly1305 is 12 bytes plus the tag.)
func (ci cipherInfo) packetSize(n int) int {
	b := ci.Block
	if b < 8 {
		b = 8
	}
	body := 1 + n // padding_length + payload
	if ci.LengthMode == lenEncrypted {
		body += 4
	}
	pad := b - body%b
	if pad < 4 {
		pad += b
	}
	total := body + pad
	if ci.LengthMode != lenEncrypted {
		total += 4
	}
	return total + ci.MacLen
}

// describe looks up a cipher and MAC pair.
func describe(enc, mac string) cipherInfo {
	ci := cipherInfo{Block: 8, LengthMode: lenEncrypted}
	encKnown, macKnown := true, true
	switch {
	case enc == "chacha20-poly1305@openssh.com":
		ci.AEAD, ci.MacLen, ci.LengthMode = true, 16, lenSeparate
	case enc == "aes128-gcm@openssh.com" || enc == "aes256-gcm@openssh.com":
		ci.AEAD, ci.MacLen, ci.LengthMode, ci.Block = true, 16, lenClear, 16
	case strings.HasPrefix(enc, "aes") || strings.HasPrefix(enc, "rijndael") || strings.HasPrefix(enc, "twofish") ||
		strings.HasPrefix(enc, "serpent") || strings.HasPrefix(enc, "camellia"):
		ci.Block = 16
	case strings.HasPrefix(enc, "3des") || strings.HasPrefix(enc, "blowfish") || strings.HasPrefix(enc, "cast128") ||
		strings.HasPrefix(enc, "idea"):
		ci.Block = 8
	case strings.HasPrefix(enc, "arcfour") || enc == "none":
		ci.Block = 8
	default:
		encKnown = false
	}
	if !ci.AEAD {
		base := strings.TrimSuffix(mac, "-etm@openssh.com")
		if base != mac {
			ci.ETM, ci.LengthMode = true, lenClear
			base += "@openssh.com"
			if !strings.HasPrefix(base, "umac") {
				base = strings.TrimSuffix(base, "@openssh.com")
			}
		}
		switch base {
		case "hmac-sha2-512":
			ci.MacLen = 64
		case "hmac-sha2-256":
			ci.MacLen = 32
		case "hmac-sha1", "hmac-ripemd160", "hmac-ripemd160@openssh.com":
			ci.MacLen = 20
		case "hmac-md5":
			ci.MacLen = 16
		case "hmac-sha1-96", "hmac-md5-96":
			ci.MacLen = 12
		case "umac-64@openssh.com":
			ci.MacLen = 8
		case "umac-128@openssh.com":
			ci.MacLen = 16
		case "none":
			ci.MacLen = 0
		default:
			macKnown = false
		}
		if enc == "none" && mac == "none" {
			ci.LengthMode = lenClear
		}
	}
	ci.Known = encKnown && macKnown && enc != ""
	return ci
}
