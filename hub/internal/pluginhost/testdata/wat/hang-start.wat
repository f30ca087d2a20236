;; A module whose start function never returns: loading it must end at its
;; start-up deadline, in the hub's process too (where the start function
;; runs after instantiation, under the stop flag).
(module
  (memory (export "memory") 1)
  (func $start (loop $spin (br $spin)))
  (start $start)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64) (i64.const 0)))
