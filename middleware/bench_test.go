package middleware

import "testing"

func BenchmarkVerify(b *testing.B) {
	const id = "0123456789abcdefghijklmnopqrstuv"
	kr := newKeyring([]string{testSecret})
	cases := map[string]string{
		"encoded": kr.sign(id),
		"raw":     "s:" + id + "." + sigText(id, testSecret),
		"forged":  Sign(id, "another secret of thirty-two bytes"),
	}
	for name, v := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				kr.verify(v)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	kr := newKeyring([]string{testSecret})
	b.ReportAllocs()
	for b.Loop() {
		kr.sign("0123456789abcdefghijklmnopqrstuv")
	}
}
