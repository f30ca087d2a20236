;; echo-input: answers a request whose body is the input exactly as the host
;; encoded it, so a test sees the bytes a module gets. Built for ABI 1.0: it
;; does not export hookhub_abi_url (echo-input-url.wat is the same with it).
(module
  (memory (export "memory") 4)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  ;; the input goes at 1024 (up to 128 KiB); the answer at 196608
  (func (export "hookhub_alloc") (param $size i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param $ptr i32) (param $len i32) (result i64)
    (i32.store (i32.const 196608) (i32.const 0x314f4848)) ;; "HHO1"
    (i32.store8 (i32.const 196612) (i32.const 0))          ;; kind 0: send
    (i64.store (i32.const 196613) (i64.const 0))           ;; content type "", no headers
    (i32.store (i32.const 196621) (i32.const 0))           ;; no query
    (i32.store (i32.const 196625) (local.get $len))        ;; body: the input
    (memory.copy (i32.const 196629) (local.get $ptr) (local.get $len))
    (i64.or (i64.shl (i64.const 196608) (i64.const 32))
            (i64.extend_i32_u (i32.add (local.get $len) (i32.const 21))))))
