;; A module whose hookhub_config_schema never returns: loading it must end at
;; its start-up deadline, not hang (hookhub validate, plugin run, serve).
(module
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_config_schema") (result i64)
    (loop $spin (br $spin))
    (i64.const 0))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64) (i64.const 0)))
