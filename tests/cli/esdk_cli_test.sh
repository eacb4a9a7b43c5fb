#!/usr/bin/env bash
# `meridian encrypt|decrypt` behaviour through the meridian-esdk tool: round trips over files and
# pipes, and the error a user sees for each failure class (wrong key, tampering, wrong encryption
# context, commitment policy, too many encrypted data keys, truncation).
# Usage: tests/cli/esdk_cli_test.sh /path/to/meridian-esdk
set -u
CLI="$1"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAILED: $*"; fail=$((fail + 1)); }
# expect_error NAME PATTERN CMD... : CMD must exit 1 and print PATTERN on stderr
expect_error() {
  local name="$1" pattern="$2"; shift 2
  if "$@" 2>"$T/err" >/dev/null; then bad "$name: succeeded"; return; fi
  grep -q "$pattern" "$T/err" && ok || bad "$name: stderr was: $(cat "$T/err")"
}

head -c 32 /dev/urandom > "$T/k1"; head -c 32 /dev/urandom > "$T/k2"; head -c 16 /dev/urandom > "$T/k3"
head -c 300000 /dev/urandom > "$T/plain"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.pem" 2>/dev/null
K1=(provider=raw-aes namespace=ns name=k1 "key=@$T/k1")
K2=(provider=raw-aes namespace=ns name=k2 "key=@$T/k2")
K3=(provider=raw-aes namespace=ns name=k3 "key=@$T/k3")
RSA=(provider=raw-rsa namespace=rsa name=r1 "key=@$T/rsa.pem" padding=oaep-sha512)

# Round trips: files, pipes, every suite, multi-keyring, RSA.
for alg in 0x0014 0x0046 0x0078 0x0114 0x0146 0x0178 0x0214 0x0346 0x0378 0x0478 0x0578; do
  policy=forbid-encrypt-allow-decrypt; case $alg in 0x0478|0x0578) policy=require-encrypt-require-decrypt;; esac
  "$CLI" encrypt -i "$T/plain" -o "$T/ct" -q -w "${K1[@]}" -c purpose=test "ключ=значение" --algorithm $alg \
    --frame-length 1000 --commitment-policy $policy || bad "encrypt $alg"
  "$CLI" decrypt -i - -o - -q -w "${K1[@]}" -c purpose=test --commitment-policy require-encrypt-allow-decrypt \
    < "$T/ct" | cmp -s - "$T/plain" && ok || bad "decrypt $alg"
done
"$CLI" encrypt -i "$T/plain" -o "$T/multi" -q -w "${K1[@]}" -w "${K2[@]}" -w "${RSA[@]}" || bad "multi encrypt"
for k in K1 K2 RSA; do
  eval "args=(\"\${$k[@]}\")"
  "$CLI" decrypt -i "$T/multi" -o "$T/out" -q -w "${args[@]}" && cmp -s "$T/out" "$T/plain" && ok || bad "multi decrypt with $k"
done
printf '' | "$CLI" encrypt -i - -o "$T/empty" -q -w "${K1[@]}" && "$CLI" decrypt -i "$T/empty" -o "$T/eout" -q -w "${K1[@]}" \
  && [ ! -s "$T/eout" ] && ok || bad "empty plaintext"

# Errors.
expect_error "wrong key" "wrong key" "$CLI" decrypt -i "$T/multi" -o "$T/x" -q -w "${K3[@]}"
[ -e "$T/x" ] && bad "output left behind after failure" || ok
cp "$T/multi" "$T/tampered"; printf '\x01' | dd of="$T/tampered" bs=1 seek=2000 conv=notrunc 2>/dev/null
expect_error "tampered" "tampered" "$CLI" decrypt -i "$T/tampered" -o - -q -w "${K1[@]}"
"$CLI" encrypt -i "$T/plain" -o "$T/ec" -q -w "${K1[@]}" -c tenant=a
expect_error "wrong context" "encryption context" "$CLI" decrypt -i "$T/ec" -o - -q -w "${K1[@]}" -c tenant=b
expect_error "too many EDKs" "too many encrypted data keys" "$CLI" decrypt -i "$T/multi" -o - -q -w "${K1[@]}" --max-encrypted-data-keys 2
"$CLI" encrypt -i "$T/plain" -o "$T/v1" -q -w "${K1[@]}" --algorithm 0x0378 --commitment-policy forbid-encrypt-allow-decrypt
expect_error "v1 under require-require" "commitment policy" "$CLI" decrypt -i "$T/v1" -o - -q -w "${K1[@]}"
expect_error "encrypt non-committing under default policy" "commitment policy" "$CLI" encrypt -i "$T/plain" -o - -q -w "${K1[@]}" --algorithm 0x0178
head -c 5000 "$T/multi" > "$T/trunc"
expect_error "truncated" "truncated" "$CLI" decrypt -i "$T/trunc" -o - -q -w "${K1[@]}"
expect_error "signed refused" "signed" "$CLI" decrypt -i "$T/multi" -o - -q -w "${K1[@]}" --decrypt-unsigned
expect_error "bad key size" "128, 192 or 256" "$CLI" encrypt -i "$T/plain" -o - -q -w provider=raw-aes namespace=ns name=x "key=@$T/plain"
expect_error "bad provider" "provider=" "$CLI" encrypt -i "$T/plain" -o - -q -w provider=nope
expect_error "bad padding" "unknown RSA padding" "$CLI" encrypt -i "$T/plain" -o - -q -w provider=raw-rsa namespace=n name=r "key=@$T/rsa.pem" padding=oaep-md5
# Required encryption context: kept out of the message, needed again to decrypt.
"$CLI" encrypt -i "$T/plain" -o "$T/req" -q -w "${K1[@]}" -c tenant=acme stored=yes --required-encryption-context-keys tenant
grep -q acme "$T/req" && bad "required context stored in the message" || ok
expect_error "required context missing" "encryption context" "$CLI" decrypt -i "$T/req" -o - -q -w "${K1[@]}" --required-encryption-context-keys tenant
"$CLI" decrypt -i "$T/req" -o - -q -w "${K1[@]}" -c tenant=acme | cmp -s - "$T/plain" && ok || bad "required context decrypt"

echo "esdk cli: $((pass + fail)) checks, $pass passed, $fail failed"
[ "$fail" -eq 0 ]
