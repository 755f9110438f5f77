package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// cheap are low costs, so that the tests run fast; the format and the
// checks are the same as with DefaultPasswordParams.
var cheap = parley.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	h := parley.HashPassword("correct horse", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("HashPassword() = %q, want the PHC form with its parameters", h)
	}
	if again := parley.HashPassword("correct horse", cheap); again == h {
		t.Error("HashPassword() twice gave one hash: the salt is not random")
	}
	ok, rehash, err := parley.CheckPassword(h, "correct horse", cheap)
	if !ok || rehash || err != nil {
		t.Errorf("CheckPassword(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	for _, wrong := range []string{"correct horsf", "", "correct horse ", "Correct horse"} {
		if ok, rehash, err := parley.CheckPassword(h, wrong, cheap); ok || rehash || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
		}
	}
}

// TestCheckPasswordRaisedCosts is what raising the costs later relies on:
// old hashes still check, and say that they should be made again.
func TestCheckPasswordRaisedCosts(t *testing.T) {
	old := parley.HashPassword("battery staple", cheap)
	raised := cheap
	raised.Time = 2
	ok, rehash, err := parley.CheckPassword(old, "battery staple", raised)
	if !ok || !rehash || err != nil {
		t.Errorf("CheckPassword(old hash, raised costs) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, rehash, _ := parley.CheckPassword(old, "wrong password", raised); ok || rehash {
		t.Errorf("CheckPassword(old hash, wrong password) = %v, %v; want no rehash of a wrong password", ok, rehash)
	}
}

func TestCheckPasswordBadHash(t *testing.T) {
	good := parley.HashPassword("pw", cheap)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"", "plain text", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=18$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=0,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		good + "$",
	} {
		if ok, _, err := parley.CheckPassword(bad, "pw", cheap); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for _, good := range []string{"12345678", "correct horse battery staple", "пароль-пароль", strings.Repeat("x", parley.MaxPasswordBytes)} {
		if err := parley.ValidatePassword(good); err != nil {
			t.Errorf("ValidatePassword(%q) = %v, want nil", good, err)
		}
	}
	for _, bad := range []string{"", "1234567", "пароль", strings.Repeat("x", parley.MaxPasswordBytes+1), "abcdefgh\xff"} {
		if err := parley.ValidatePassword(bad); parley.CodeOf(err) != parley.CodeInvalidPassword {
			t.Errorf("ValidatePassword(%q) = %v, want invalid_password", bad, err)
		}
	}
}

func TestAccountValidate(t *testing.T) {
	hash := parley.HashPassword("password", cheap)
	good := parley.Account{Name: "ana", DisplayName: "Ana María", PasswordHash: hash}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", good, err)
	}
	for _, tt := range []struct {
		a    parley.Account
		code string
	}{
		{parley.Account{Name: "", PasswordHash: hash}, parley.CodeInvalidNick},
		{parley.Account{Name: "ana", DisplayName: " Ana", PasswordHash: hash}, parley.CodeInvalidDisplayName},
		{parley.Account{Name: "ana", DisplayName: "A  na", PasswordHash: hash}, parley.CodeInvalidDisplayName},
		{parley.Account{Name: "ana", DisplayName: "A\u202ena", PasswordHash: hash}, parley.CodeInvalidDisplayName},
		{parley.Account{Name: "ana", DisplayName: strings.Repeat("a", parley.MaxDisplayNameLen+1), PasswordHash: hash}, parley.CodeInvalidDisplayName},
		{parley.Account{Name: "ana", DisplayName: "\xff", PasswordHash: hash}, parley.CodeInvalidDisplayName},
		{parley.Account{Name: "ana"}, "invalid"},
	} {
		if err := tt.a.Validate(); parley.CodeOf(err) != tt.code || parley.KindOf(err) != parley.Invalid {
			t.Errorf("Validate(%+v) = %v (%s), want Invalid %s", tt.a, err, parley.CodeOf(err), tt.code)
		}
	}
}

func TestSessionLabel(t *testing.T) {
	for in, want := range map[string]string{
		"Firefox on Linux":       "Firefox on Linux",
		" deploy bot ":           "deploy bot",
		"a\u202eb\x00c\n":        "abc",
		strings.Repeat("é", 150): strings.Repeat("é", parley.MaxLabelLen),
		"bad \xff utf-8":         "bad  utf-8",
	} {
		if got := parley.SessionLabel(in); got != want {
			t.Errorf("SessionLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkHashPassword measures a hash at the default costs, the time a
// sign-in takes of a core (docs/OPERATIONS.md).
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		parley.HashPassword("correct horse battery staple", parley.DefaultPasswordParams)
	}
}
