;; A transform that never returns: a tight loop with no call in it. In the
;; hub's process, the stop check at the loop's head must end it at the
;; call's limit.
(module
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64)
    (loop $l (br $l))
    (i64.const 0)))
