;; Structural walker for JSON bytes (WebAssembly + SIMD128), the fast path of src/trail/kernel.ts.
;; Regenerate src/trail/kernel-wasm.ts from this file with `node scripts/build-kernel.mjs` (needs `wabt`).
;;
;; Memory layout: [0, DATA) holds the output triples (start, end, candidate) as i32; the input bytes are copied
;; to [DATA, DATA + len), followed by 64 zero bytes (blocks are read 64 bytes at a time, past the end).
;;
;; Per 64-byte block (simdjson-style): bit masks of quotes, backslashes, `{[` and `}]`; escaped characters
;; from the odd-length backslash runs (carry between blocks in $esc); the in-string mask by prefix-XOR of
;; the unescaped quotes (carry in $instr, 0 or -1); brackets outside strings. If the depth cannot reach 0
;; within the block (depth > number of closing brackets) it is updated with two popcounts; otherwise the
;; brackets are walked one by one with ctz.
;;
;; Needle: whether the 19 bytes `"ses.amazonaws.com"` occur inside an element. The raw quote mask (escaped
;; quotes included: this is a byte search) gives the candidates, positions j with a quote at j and at j - 18
;; (the previous block's quotes carry in $pq); bytes 1..17 are then compared at each candidate, leaving $e =
;; the end quotes of real occurrences. The needle holds no bracket, so an occurrence whose end quote the walk
;; passes inside an element lies wholly inside it ($pq is 0 where a walk starts, just past a `{`).
;; Escapes: a `u` right after a raw backslash (`\u`, the previous block's last backslash carried in $pbs)
;; also counts, since JSON may spell the needle (or the eventSource key) with \u escapes. $hit collects both
;; for the current element; it is reported only for elements that started in this buffer.
(module
  (memory (export "memory") 2)
  ;; state out: position (relative to DATA), depth, flags (1 inString, 2 escape, 4 afterElement), start
  (global $g_pos (export "pos") (mut i32) (i32.const 0))
  (global $g_depth (export "depth") (mut i32) (i32.const 0))
  (global $g_flags (export "flags") (mut i32) (i32.const 0))
  (global $g_start (export "start") (mut i32) (i32.const 0))

  ;; DATA offset (bytes): the output area below it holds 5461 triples.
  (global $DATA i32 (i32.const 65536))

  ;; scan(from, len, depth, flags, cap) -> count of elements ended.
  (func $scan (export "scan")
    (param $from i32) (param $len i32) (param $depth i32) (param $flags i32) (param $cap i32)
    (result i32)
    (local $p i32) (local $end i32) (local $n i32) (local $k i32) (local $c i32) (local $count i32)
    (local $st i32) (local $after i32) (local $t i32)
    (local $instr i64) (local $esc i64)
    (local $q i64) (local $bs i64) (local $op i64) (local $cl i64) (local $s i64)
    (local $fe i64) (local $ose i64) (local $sum i64) (local $ovf i64) (local $escd i64) (local $x i64)
    (local $nInstr i64) (local $nEsc i64) (local $pc i32)
    (local $pq i64) (local $e i64) (local $cand i64) (local $hit i32) (local $a i32)
    (local $u i64) (local $pbs i64)
    (local $v v128) (local $v2 v128)

    (local.set $p (i32.add (global.get $DATA) (local.get $from)))
    (local.set $end (i32.add (global.get $DATA) (local.get $len)))
    (local.set $instr (i64.extend_i32_u (i32.and (local.get $flags) (i32.const 1))))
    (local.set $instr (i64.sub (i64.const 0) (local.get $instr)))
    (local.set $esc (i64.extend_i32_u (i32.shr_u (i32.and (local.get $flags) (i32.const 2)) (i32.const 1))))
    (local.set $after (i32.shr_u (i32.and (local.get $flags) (i32.const 4)) (i32.const 2)))
    (local.set $st (i32.const -1))
    (local.set $count (i32.const 0))

    (loop $outer
      (block $toBlocks
        ;; ---- between elements (records mode, depth 0): whitespace, one comma, then `{` or `[` ----
        (if (i32.eqz (local.get $depth))
          (then
            (local.set $k (local.get $p))
            (loop $sep
              (if (i32.ge_u (local.get $k) (local.get $end))
                (then
                  (global.set $g_pos (i32.sub (local.get $k) (global.get $DATA)))
                  (global.set $g_depth (i32.const 0))
                  (global.set $g_flags (i32.shl (local.get $after) (i32.const 2)))
                  (global.set $g_start (i32.const -1))
                  (return (local.get $count))))
              (local.set $c (i32.load8_u (local.get $k)))
              (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
                          (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))
                (then (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $sep)))
              (if (i32.and (i32.eq (local.get $c) (i32.const 0x2c)) (local.get $after))
                (then
                  (local.set $after (i32.const 0))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $sep)))
              (if (i32.and (i32.eq (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7b)) (i32.eqz (local.get $after)))
                (then
                  (local.set $st (i32.sub (local.get $k) (global.get $DATA)))
                  (local.set $depth (i32.const 1))
                  (local.set $after (i32.const 1))
                  (local.set $p (i32.add (local.get $k) (i32.const 1)))
                  (local.set $instr (i64.const 0))
                  (local.set $esc (i64.const 0))
                  (local.set $pq (i64.const 0))
                  (local.set $pbs (i64.const 0))
                  (local.set $hit (i32.const 0))
                  (br $toBlocks)))
              ;; anything else: stop here, the caller handles it
              (global.set $g_pos (i32.sub (local.get $k) (global.get $DATA)))
              (global.set $g_depth (i32.const 0))
              (global.set $g_flags (i32.shl (local.get $after) (i32.const 2)))
              (global.set $g_start (i32.const -1))
              (return (local.get $count))))))

      ;; ---- blocks of 64 bytes ----
      (loop $blocks
        (if (i32.ge_u (local.get $p) (local.get $end))
          (then
            ;; the buffer ends inside the element
            (global.set $g_pos (local.get $len))
            (global.set $g_depth (local.get $depth))
            (global.set $g_flags
              (i32.or (i32.or (i32.and (i32.wrap_i64 (local.get $instr)) (i32.const 1))
                              (i32.shl (i32.wrap_i64 (local.get $esc)) (i32.const 1)))
                      (i32.const 4)))
            (global.set $g_start (local.get $st))
            (return (local.get $count))))
        (local.set $n (i32.sub (local.get $end) (local.get $p)))
        (if (i32.gt_u (local.get $n) (i32.const 64)) (then (local.set $n (i32.const 64))))

        ;; masks, 16 bytes at a time
        (local.set $v (v128.load offset=0 align=1 (local.get $p)))
        (local.set $v2 (v128.or (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
        (local.set $q (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22)))))
        (local.set $bs (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))))
        (local.set $op (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b)))))
        (local.set $cl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))))
        (local.set $u (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75)))))

        (local.set $v (v128.load offset=16 align=1 (local.get $p)))
        (local.set $v2 (v128.or (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
        (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22)))) (i64.const 16))))
        (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))) (i64.const 16))))
        (local.set $op (i64.or (local.get $op) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b)))) (i64.const 16))))
        (local.set $cl (i64.or (local.get $cl) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))) (i64.const 16))))
        (local.set $u (i64.or (local.get $u) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75)))) (i64.const 16))))

        (local.set $v (v128.load offset=32 align=1 (local.get $p)))
        (local.set $v2 (v128.or (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
        (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22)))) (i64.const 32))))
        (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))) (i64.const 32))))
        (local.set $op (i64.or (local.get $op) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b)))) (i64.const 32))))
        (local.set $cl (i64.or (local.get $cl) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))) (i64.const 32))))
        (local.set $u (i64.or (local.get $u) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75)))) (i64.const 32))))

        (local.set $v (v128.load offset=48 align=1 (local.get $p)))
        (local.set $v2 (v128.or (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
        (local.set $q (i64.or (local.get $q) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22)))) (i64.const 48))))
        (local.set $bs (i64.or (local.get $bs) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))) (i64.const 48))))
        (local.set $op (i64.or (local.get $op) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b 0x7b)))) (i64.const 48))))
        (local.set $cl (i64.or (local.get $cl) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))) (i64.const 48))))
        (local.set $u (i64.or (local.get $u) (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75 0x75)))) (i64.const 48))))

        ;; needle: quotes 18 apart, then bytes 1..17 compared ("ses.amaz", "onaws.co", "m")
        (local.set $cand (i64.and (local.get $q)
          (i64.or (i64.shl (local.get $q) (i64.const 18)) (i64.shr_u (local.get $pq) (i64.const 46)))))
        (local.set $pq (local.get $q))
        ;; `\u` escapes: a `u` right after a backslash (escaped backslashes included: a byte search). JSON
        ;; can spell "ses.amazonaws.com" or any key with them, so such elements are candidates too.
        (local.set $e (i64.and (local.get $u)
          (i64.or (i64.shl (local.get $bs) (i64.const 1)) (i64.shr_u (local.get $pbs) (i64.const 63)))))
        (local.set $pbs (local.get $bs))
        (block $checked
          (loop $cands
            (br_if $checked (i64.eqz (local.get $cand)))
            (local.set $t (i32.wrap_i64 (i64.ctz (local.get $cand))))
            (local.set $a (i32.sub (i32.add (local.get $p) (local.get $t)) (i32.const 18)))
            (if (i64.eq (i64.load offset=1 align=1 (local.get $a)) (i64.const 0x7a616d612e736573))
              (then
                (if (i32.and
                      (i64.eq (i64.load offset=9 align=1 (local.get $a)) (i64.const 0x6f632e7377616e6f))
                      (i32.eq (i32.load8_u offset=17 (local.get $a)) (i32.const 0x6d)))
                  (then (local.set $e (i64.or (local.get $e) (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t)))))))))
            (local.set $cand (i64.and (local.get $cand) (i64.sub (local.get $cand) (i64.const 1))))
            (br $cands)))

        ;; escaped characters (simdjson): odd-length backslash runs escape the next byte
        (if (i64.eqz (i64.or (local.get $bs) (local.get $esc)))
          (then
            (local.set $escd (i64.const 0))
            (local.set $ovf (i64.const 0)))
          (else
            (local.set $bs (i64.and (local.get $bs) (i64.xor (local.get $esc) (i64.const -1))))
            (local.set $fe (i64.or (i64.shl (local.get $bs) (i64.const 1)) (local.get $esc)))
            (local.set $ose (i64.and (local.get $bs)
              (i64.and (i64.const 0xaaaaaaaaaaaaaaaa) (i64.xor (local.get $fe) (i64.const -1)))))
            (local.set $sum (i64.add (local.get $ose) (local.get $bs)))
            (local.set $ovf (i64.extend_i32_u (i64.lt_u (local.get $sum) (local.get $ose))))
            (local.set $escd (i64.and
              (i64.xor (i64.const 0x5555555555555555) (i64.shl (local.get $sum) (i64.const 1)))
              (local.get $fe)))))
        (local.set $q (i64.and (local.get $q) (i64.xor (local.get $escd) (i64.const -1))))
        ;; in-string mask: prefix XOR of the unescaped quotes, flipped when the block starts inside a string
        (local.set $x (local.get $q))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $x (i64.xor (local.get $x) (local.get $instr)))
        (local.set $op (i64.and (local.get $op) (i64.xor (local.get $x) (i64.const -1))))
        (local.set $cl (i64.and (local.get $cl) (i64.xor (local.get $x) (i64.const -1))))
        ;; carries into the next block
        (if (i32.eq (local.get $n) (i32.const 64))
          (then
            (local.set $nInstr (i64.shr_s (local.get $x) (i64.const 63)))
            (local.set $nEsc (local.get $ovf)))
          (else
            (local.set $nInstr (i64.sub (i64.const 0)
              (i64.and (i64.shr_u (local.get $x) (i64.extend_i32_u (i32.sub (local.get $n) (i32.const 1)))) (i64.const 1))))
            (local.set $nEsc
              (i64.and (i64.shr_u (local.get $escd) (i64.extend_i32_u (local.get $n))) (i64.const 1)))))

        (local.set $pc (i32.wrap_i64 (i64.popcnt (local.get $cl))))
        (if (i32.gt_s (local.get $depth) (local.get $pc))
          (then
            ;; depth stays above 0 in this block
            (local.set $hit (i32.or (local.get $hit) (i64.ne (local.get $e) (i64.const 0))))
            (local.set $depth (i32.add (local.get $depth)
              (i32.sub (i32.wrap_i64 (i64.popcnt (local.get $op))) (local.get $pc))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (local.set $instr (local.get $nInstr))
            (local.set $esc (local.get $nEsc))
            (br $blocks)))

        ;; walk the brackets of this block one by one
        (local.set $s (i64.or (local.get $op) (local.get $cl)))
        (block $walked
          (loop $bits
            (br_if $walked (i64.eqz (local.get $s)))
            (local.set $t (i32.wrap_i64 (i64.ctz (local.get $s))))
            (if (i64.ne (i64.and (local.get $op) (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t)))) (i64.const 0))
              (then (local.set $depth (i32.add (local.get $depth) (i32.const 1))))
              (else
                (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                (if (i32.eqz (local.get $depth))
                  (then
                    ;; the element ends just past this bracket
                    (local.set $k (i32.sub (i32.add (local.get $p) (i32.add (local.get $t) (i32.const 1))) (global.get $DATA)))
                    ;; needle occurrences before this bracket are the element's; drop them
                    (local.set $hit (i32.or (local.get $hit)
                      (i64.ne (i64.and (local.get $e)
                        (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $t))) (i64.const 1))) (i64.const 0))))
                    (local.set $e (i64.and (local.get $e) (i64.shl (i64.const -2) (i64.extend_i32_u (local.get $t)))))
                    (local.set $a (i32.mul (local.get $count) (i32.const 12)))
                    (i32.store (local.get $a) (local.get $st))
                    (i32.store offset=4 (local.get $a) (local.get $k))
                    (i32.store offset=8 (local.get $a)
                      (i32.and (local.get $hit) (i32.ge_s (local.get $st) (i32.const 0))))
                    (local.set $hit (i32.const 0))
                    (local.set $count (i32.add (local.get $count) (i32.const 1)))
                    (local.set $st (i32.const -1))
                    (local.set $after (i32.const 1))
                    (if (i32.ge_u (local.get $count) (local.get $cap))
                      (then
                        (global.set $g_pos (local.get $k))
                        (global.set $g_depth (i32.const 0))
                        (global.set $g_flags (i32.const 4))
                        (global.set $g_start (i32.const -1))
                        (return (local.get $count))))
                    ;; fast path for the common `},{` / `},\n  {`: the separator and the next `{` within
                    ;; this block keep the block's masks valid (they are outside strings)
                    (local.set $k (i32.add (global.get $DATA) (local.get $k)))
                    (block $slow
                      (loop $sep2
                        (br_if $slow (i32.ge_u (local.get $k) (i32.add (local.get $p) (local.get $n))))
                        (local.set $c (i32.load8_u (local.get $k)))
                        (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
                                    (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))
                          (then (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $sep2)))
                        (if (i32.and (i32.eq (local.get $c) (i32.const 0x2c)) (local.get $after))
                          (then
                            (local.set $after (i32.const 0))
                            (local.set $k (i32.add (local.get $k) (i32.const 1)))
                            (br $sep2)))
                        (br_if $slow (i32.or (local.get $after)
                          (i32.ne (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x7b))))
                        ;; a new element starts at k, inside this block
                        (local.set $st (i32.sub (local.get $k) (global.get $DATA)))
                        (local.set $depth (i32.const 1))
                        (local.set $after (i32.const 1))
                        (local.set $t (i32.sub (local.get $k) (local.get $p)))
                        ;; drop the bits up to and including k
                        (local.set $s (i64.and (local.get $s)
                          (i64.shl (i64.const -2) (i64.extend_i32_u (local.get $t)))))
                        (br $bits)))
                    ;; otherwise the separator parser decides, from k, with fresh carries
                    (local.set $p (local.get $k))
                    (local.set $depth (i32.const 0))
                    (br $outer)))))
            (local.set $s (i64.and (local.get $s) (i64.sub (local.get $s) (i64.const 1))))
            (br $bits)))
        ;; the rest of the block is inside the current element
        (local.set $hit (i32.or (local.get $hit) (i64.ne (local.get $e) (i64.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $instr (local.get $nInstr))
        (local.set $esc (local.get $nEsc))
        (br $blocks)))
    (unreachable))
)
