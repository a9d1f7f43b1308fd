package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// refusingChanges is a StreamChanges that fails the test if called.
type refusingChanges struct{ t *testing.T }

func (c refusingChanges) Put(string, []Setting) (bool, error) {
	c.t.Error("Put called")
	return false, nil
}

func (c refusingChanges) Delete(string, bool) error {
	c.t.Error("Delete called")
	return nil
}

// TestStreamChangesNeedConfigAndToken: a server whose streams come from
// flags answers PUT and DELETE with 405, one without a token with 403, and
// neither reaches the set.
func TestStreamChangesNeedConfigAndToken(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		code int
		want string
	}{
		{"from flags", Config{Token: "x"}, http.StatusMethodNotAllowed, "--config"},
		{"no token", Config{Changes: refusingChanges{t}}, http.StatusForbidden, "token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := New(c.cfg)
			for _, method := range []string{http.MethodPut, http.MethodDelete} {
				req := httptest.NewRequest(method, "/api/streams/cam", strings.NewReader(`{"size":"640x480"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer x")
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
					t.Errorf("%s: %d %s, want %d naming %s", method, rec.Code, rec.Body, c.code, c.want)
				}
			}
		})
	}
}

// TestDecodeSettings reads a stream's settings as text, in order, and
// refuses what a config entry could not hold.
func TestDecodeSettings(t *testing.T) {
	got, err := decodeSettings([]byte(`{"size":"640x480","fps":25,"loop":true,"segment":"1.5s"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{{"size", "640x480"}, {"fps", "25"}, {"loop", "true"}, {"segment", "1.5s"}}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d: %v, want %v", i, got[i], want[i])
		}
	}
	for body, msg := range map[string]string{
		`{"fps":[25]}`:    "fps: want a string, a number or a boolean",
		`{"a":{"b":1}}`:   "a: want a string",
		`{"a":1,"a":2}`:   "a: given twice",
		`[]`:              "want a JSON object",
		`{"a":1} {"b":2}`: "not valid JSON",
		`{"a":`:           "not valid JSON",
		`{"input":null}`:  "input: want a string",
	} {
		if _, err := decodeSettings([]byte(body)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("decodeSettings(%s) = %v, want an error saying %q", body, err, msg)
		}
	}
}
