package ipsec

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Exchange types: IKEv1 (RFC 2408/2409) and IKEv2 (RFC 7296).
var exchangeNames = map[int]string{
	1: "Base", 2: "Identity Protection (Main Mode)", 3: "Authentication Only", 4: "Aggressive", 5: "Informational",
	6: "Transaction (Config Mode)", 32: "Quick Mode", 33: "New Group Mode",
	34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL", 38: "IKE_SESSION_RESUME",
	43: "IKE_INTERMEDIATE", 44: "IKE_FOLLOWUP_KE",
}

func exchangeName(t int) string {
	if n, ok := exchangeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("exchange-%d", t)
}

func lookup(m map[int]string, v int, prefix string) string {
	if n, ok := m[v]; ok {
		return n
	}
	return prefix + "_" + strconv.Itoa(v)
}

var v1Encr = map[int]string{1: "DES-CBC", 2: "IDEA-CBC", 3: "Blowfish-CBC", 4: "RC5-CBC", 5: "3DES-CBC", 6: "CAST-CBC", 7: "AES-CBC", 8: "Camellia-CBC"}
var v1Hash = map[int]string{1: "MD5", 2: "SHA1", 3: "Tiger", 4: "SHA2-256", 5: "SHA2-384", 6: "SHA2-512"}
var v1Auth = map[int]string{1: "PSK", 2: "DSS-SIG", 3: "RSA-SIG", 4: "RSA-ENC", 5: "RSA-REV-ENC", 9: "ECDSA-SHA256", 10: "ECDSA-SHA384", 11: "ECDSA-SHA512",
	64221: "HybridInitRSA", 65001: "XAUTHInitPreShared", 65003: "XAUTHInitDSS", 65005: "XAUTHInitRSA"}

var v2Encr = map[int]string{1: "ENCR_DES_IV64", 2: "ENCR_DES", 3: "ENCR_3DES", 4: "ENCR_RC5", 5: "ENCR_IDEA", 6: "ENCR_CAST", 7: "ENCR_BLOWFISH",
	8: "ENCR_3IDEA", 9: "ENCR_DES_IV32", 11: "ENCR_NULL", 12: "ENCR_AES_CBC", 13: "ENCR_AES_CTR", 14: "ENCR_AES_CCM_8", 15: "ENCR_AES_CCM_12",
	16: "ENCR_AES_CCM_16", 18: "ENCR_AES_GCM_8", 19: "ENCR_AES_GCM_12", 20: "ENCR_AES_GCM_16", 21: "ENCR_NULL_AUTH_AES_GMAC",
	23: "ENCR_CAMELLIA_CBC", 28: "ENCR_CHACHA20_POLY1305"}
var v2PRF = map[int]string{1: "PRF_HMAC_MD5", 2: "PRF_HMAC_SHA1", 3: "PRF_HMAC_TIGER", 4: "PRF_AES128_XCBC", 5: "PRF_HMAC_SHA2_256",
	6: "PRF_HMAC_SHA2_384", 7: "PRF_HMAC_SHA2_512", 8: "PRF_AES128_CMAC"}
var v2Integ = map[int]string{0: "NONE", 1: "AUTH_HMAC_MD5_96", 2: "AUTH_HMAC_SHA1_96", 3: "AUTH_DES_MAC", 4: "AUTH_KPDK_MD5", 5: "AUTH_AES_XCBC_96",
	6: "AUTH_HMAC_MD5_128", 7: "AUTH_HMAC_SHA1_160", 8: "AUTH_AES_CMAC_96", 12: "AUTH_HMAC_SHA2_256_128", 13: "AUTH_HMAC_SHA2_384_192",
	14: "AUTH_HMAC_SHA2_512_256"}
var dhGroups = map[int]string{0: "DH_NONE", 1: "MODP_768", 2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048", 15: "MODP_3072", 16: "MODP_4096",
	17: "MODP_6144", 18: "MODP_8192", 19: "ECP_256", 20: "ECP_384", 21: "ECP_521", 22: "MODP_1024_160", 23: "MODP_2048_224",
	24: "MODP_2048_256", 25: "ECP_192", 26: "ECP_224", 27: "BRAINPOOL_224", 28: "BRAINPOOL_256", 29: "BRAINPOOL_384",
	30: "BRAINPOOL_512", 31: "CURVE25519", 32: "CURVE448"}

// weakNames are algorithms and groups considered broken or too small
// (RFC 8247 "MUST NOT"/"SHOULD NOT", groups under 2048 bits).
var weakNames = map[string]bool{
	"DES-CBC": true, "IDEA-CBC": true, "Blowfish-CBC": true, "RC5-CBC": true, "CAST-CBC": true, "MD5": true,
	"ENCR_DES_IV64": true, "ENCR_DES": true, "ENCR_3DES": true, "ENCR_RC5": true, "ENCR_IDEA": true, "ENCR_CAST": true,
	"ENCR_BLOWFISH": true, "ENCR_3IDEA": true, "ENCR_DES_IV32": true, "ENCR_NULL": true, "3DES-CBC": true,
	"PRF_HMAC_MD5": true, "AUTH_HMAC_MD5_96": true, "AUTH_DES_MAC": true, "AUTH_KPDK_MD5": true, "AUTH_HMAC_MD5_128": true,
	"MODP_768": true, "MODP_1024": true, "MODP_1536": true, "MODP_1024_160": true, "MODP_2048_224": true, "MODP_2048_256": true,
	"ECP_192": true, "ECP_224": true, "NONE": true,
}

// weakV2IDs holds, per IKEv2 transform type (1 encryption, 2 PRF, 3
// integrity, 4 DH group), the IDs whose names are in weakNames. Only those
// can be flagged (a name with a key length appended, or one made up for
// an unknown ID, is never in weakNames), so proposalsV2 tests the ID
// before looking the name up as text.
var weakV2IDs = func() (w [5]map[int]bool) {
	for typ, m := range map[int]map[int]string{1: v2Encr, 2: v2PRF, 3: v2Integ, 4: dhGroups} {
		w[typ] = map[int]bool{}
		for id, name := range m {
			if weakNames[name] {
				w[typ][id] = true
			}
		}
	}
	return w
}()

// weakV2 reports whether an IKEv2 transform's name may be weak.
func weakV2(typ, id int) bool { return typ < len(weakV2IDs) && weakV2IDs[typ][id] }

// vendorIDs maps vendor ID payloads (hex, or a hex prefix for IDs that
// carry a version after it) to names.
var vendorIDs = []struct{ hex, name string }{
	{"4a131c81070358455c5728f20e95452f", "RFC 3947 NAT-T"},
	{"afcad71368a1f1c96b8696fc77570100", "Dead Peer Detection (RFC 3706)"},
	{"cd60464335df21f87cfdb2fc68b6a448", "draft-ietf-ipsec-nat-t-ike-02"},
	{"90cb80913ebb696e086381b5ec427b1f", "draft-ietf-ipsec-nat-t-ike-02\\n"},
	{"4485152d18b6bbcd0be8a8469579ddcc", "draft-ietf-ipsec-nat-t-ike-00"},
	{"16f6ca16e4a4066d83821a0f0aeaa862", "draft-ietf-ipsec-nat-t-ike-03"},
	{"7d9419a65310ca6f2c179d9215529d56", "draft-ietf-ipsec-nat-t-ike-03 (alt)"},
	{"882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan"},
	{"12f5f28c457168a9702d9fe274cc0100", "Cisco Unity"},
	{"09002689dfd6b712", "XAUTH"},
	{"4048b7d56ebce88525e7de7f00d6c2d3", "IKE Fragmentation"},
	{"1e2b516905991c7d7c96fcbfb587e461", "Microsoft NT5 ISAKMPOAKLEY"},
	{"fb1de3cdf341b7ea16b7e5be0855f120", "Microsoft Windows Vista/7"},
	{"8299031757a36082c6a621de", "Microsoft Windows"},
	{"4865617274426561745f4e6f74696679", "Heartbeat Notify"},
	{"1f07f70eaa6514d3b0fa96542a500100", "Cisco FlexVPN"},
	{"3b9031dce4fcf88b489a923963dd0c49", "Cisco (Copyright)"},
	{"bfc22e9856ba9936d6f83d6a8a5a9d20", "Palo Alto Networks"},
	{"f4ed19e0c114eb516faaac0ee37daf28", "Juniper/NetScreen"},
	{"166f932d55eb64d8e4df4fd37e2313f0d0fd84510000000000000000", "Cisco VPN Concentrator"},
	{"4f45", "Openswan/Libreswan"},
	{"69936922874ea6d5e0e47d7b87e1e09e", "Check Point"},
}

// vendorName names a vendor ID, or returns its hex.
func vendorName(b []byte) string {
	h := hex.EncodeToString(b)
	for _, v := range vendorIDs {
		if strings.HasPrefix(h, v.hex) && (len(v.hex) >= 16 || len(b) == 12) {
			return v.name
		}
	}
	if text(b) {
		return "text:" + string(b)
	}
	if len(h) > 64 {
		h = h[:64] + "..."
	}
	return "unknown:" + h
}

var notifyNames = map[int]string{
	14: "NO_PROPOSAL_CHOSEN", 17: "INVALID_KE_PAYLOAD", 24: "AUTHENTICATION_FAILED", 24578: "INITIAL_CONTACT (IKEv1)",
	16384: "INITIAL_CONTACT", 16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP", 16390: "COOKIE",
	16391: "USE_TRANSPORT_MODE", 16404: "MULTIPLE_AUTH_SUPPORTED", 16406: "EAP_ONLY_AUTHENTICATION",
	16430: "IKEV2_FRAGMENTATION_SUPPORTED", 16431: "SIGNATURE_HASH_ALGORITHMS",
	16440: "CHILDLESS_IKEV2_SUPPORTED", 16408: "REDIRECT_SUPPORTED", 16393: "REKEY_SA", 36136: "R-U-THERE", 36137: "R-U-THERE-ACK",
}

func notifyName(t int) string {
	if n, ok := notifyNames[t]; ok {
		return n
	}
	return fmt.Sprintf("notify-%d", t)
}

// text reports a vendor ID that is readable ASCII (Cisco sends names
// such as CISCO-DELETE-REASON).
func text(b []byte) bool {
	if len(b) < 4 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
