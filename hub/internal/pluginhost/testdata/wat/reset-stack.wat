;; A module that recurses without end and, at each level, sets global 0,
;; which it does not have: the index the host's stack counter would take.
;; It is invalid as it stands (assemble it with wat2wasm --no-check), and
;; must be refused, not given the counter to reset.
(module
  (memory (export "memory") 1)
  (func $down (param $n i64) (result i64)
    (global.set 0 (i32.const 0))
    (i64.add (call $down (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param $ptr i32) (param $len i32) (result i64)
    (drop (call $down (i64.const 0)))
    (i64.const 0)))
