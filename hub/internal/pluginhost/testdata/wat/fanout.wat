;; A transform that never returns without a single loop: recursion that
;; doubles at every level, 2^60 calls never deeper than 60 frames (so no
;; stack limit ends it). In the hub's process, the stop check at each
;; function's entry must end it at the call's limit.
(module
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func $fan (param $n i32)
    (if (local.get $n)
      (then
        (call $fan (i32.sub (local.get $n) (i32.const 1)))
        (call $fan (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "hookhub_transform") (param i32 i32) (result i64)
    (call $fan (i32.const 60))
    (i64.const 0)))
