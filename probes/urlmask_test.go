package probes

import "testing"

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://shop.example.com/health":                      "https://shop.example.com/health",
		"https://u:p4ss@shop.example.com/h?api_key=k&x=1#frag": "https://u:********@shop.example.com/h?api_key=********&x=********#frag",
		"https://u@shop.example.com/h":                         "https://u@shop.example.com/h",
		"https://ops.example.com/hook?s3cr3t":                  "https://ops.example.com/hook?********",
		"javascript:alert(1)":                                  "********",
		"http://[::1]:8080/x?token=a%20b":                      "http://[::1]:8080/x?token=********",
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}
