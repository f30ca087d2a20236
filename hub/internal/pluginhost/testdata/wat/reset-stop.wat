;; A module that spins and, at each turn, clears global 1, which it does not
;; have: the index the host's stop flag would take (after the stack
;; counter's 0). It is invalid as it stands (assemble it with wat2wasm
;; --no-check), and must be refused, not given the flag to clear.
(module
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param $ptr i32) (param $len i32) (result i64)
    (loop $l
      (global.set 1 (i32.const 0))
      (br $l))
    (i64.const 0)))
