;; The WAT passthrough (examples/wat-plugin) that first reads every byte of
;; its input in a loop, as a JSON reader in C or AssemblyScript does: about
;; 1,200 loop iterations on a 1 KiB event. BenchmarkRoundTrip uses it to
;; time what the interrupt checks cost per loop iteration.
(module
  (memory (export "memory") 1)
  ;; The error message returned for malformed input.
  (data (i32.const 16) "malformed input")

  (func (export "hookhub_abi_version") (result i32) (i32.const 1))

  ;; The host writes the input at 1024; the answer goes right after it, so
  ;; make room for both.
  (func (export "hookhub_alloc") (param $size i32) (result i32)
    (local $need i32) (local $have i32)
    (local.set $need (i32.add (i32.const 1100) (i32.shl (local.get $size) (i32.const 1))))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (local.get $have)) (i32.const 65535)) (i32.const 16))))
          (then (unreachable)))))
    (i32.const 1024))

  ;; skip returns the offset past a length-prefixed field at $p, or -1 when
  ;; the field runs past $end.
  (func $skip (param $p i32) (param $end i32) (result i32)
    (local $next i32)
    (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)) (then (return (i32.const -1))))
    (local.set $next (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
    (if (i32.or (i32.gt_u (local.get $next) (local.get $end)) (i32.lt_u (local.get $next) (local.get $p)))
      (then (return (i32.const -1))))
    (local.get $next))

  ;; packed returns ptr<<32 | len.
  (func $packed (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  (func (export "hookhub_transform") (param $ptr i32) (param $len i32) (result i64)
    (local $p i32) (local $end i32) (local $n i32) (local $out i32) (local $rest i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $out (local.get $end))
    ;; Read every byte (a checksum kept at address 0).
    (local.set $p (local.get $ptr))
    (block $read
      (loop $byte
        (br_if $read (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $n (i32.add (local.get $n) (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $byte)))
    (i32.store (i32.const 0) (local.get $n))
    (local.set $n (i32.const 0))
    (block $malformed
      ;; "HHI1"
      (br_if $malformed (i32.lt_u (local.get $len) (i32.const 8)))
      (br_if $malformed (i32.ne (i32.load (local.get $ptr)) (i32.const 0x31494848)))
      (local.set $p (i32.add (local.get $ptr) (i32.const 4)))
      ;; webhook, config
      (local.set $p (call $skip (local.get $p) (local.get $end)))
      (br_if $malformed (i32.eq (local.get $p) (i32.const -1)))
      (local.set $p (call $skip (local.get $p) (local.get $end)))
      (br_if $malformed (i32.eq (local.get $p) (i32.const -1)))
      ;; events
      (br_if $malformed (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
      (local.set $n (i32.load (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $p (call $skip (local.get $p) (local.get $end)))
          (br_if $malformed (i32.eq (local.get $p) (i32.const -1)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      ;; The rest is the request: answer "HHO1", kind 0 (send), the request.
      (local.set $rest (i32.sub (local.get $end) (local.get $p)))
      (i32.store (local.get $out) (i32.const 0x314f4848))
      (i32.store8 (i32.add (local.get $out) (i32.const 4)) (i32.const 0))
      (memory.copy (i32.add (local.get $out) (i32.const 5)) (local.get $p) (local.get $rest))
      (return (call $packed (local.get $out) (i32.add (local.get $rest) (i32.const 5)))))
    ;; Malformed: "HHO1", kind 2 (error), the message.
    (i32.store (local.get $out) (i32.const 0x314f4848))
    (i32.store8 (i32.add (local.get $out) (i32.const 4)) (i32.const 2))
    (i32.store (i32.add (local.get $out) (i32.const 5)) (i32.const 15))
    (memory.copy (i32.add (local.get $out) (i32.const 9)) (i32.const 16) (i32.const 15))
    (call $packed (local.get $out) (i32.const 24)))
)
