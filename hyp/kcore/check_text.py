#!/usr/bin/env python3
"""hyp/kcore/check_text.py OBJDUMP ELF: check KCore's text for what hyp/kcore/README.md
forbids. Fails (exit 1) on: load/store-exclusive instructions; PC-relative
literal loads (LDR/LDRSW/PRFM literal); an ADR/ADRP to a text address whose
register is then used as the base of a load; data words in .text."""
import re
import subprocess
import sys

TEXT_END = 0x100000
EXCL = re.compile(r'^(ldx|ldax|stx|stlx)[rp]')
LINE = re.compile(r'^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(\S+)\s*(.*)$')


def main():
    objdump, elf = sys.argv[1], sys.argv[2]
    out = subprocess.run([objdump, '-d', '-j', '.text', '--no-show-raw-insn', elf],
                         capture_output=True, text=True, check=True).stdout
    raw = subprocess.run([objdump, '-d', '-j', '.text', elf],
                         capture_output=True, text=True, check=True).stdout
    insns = []
    for ln in raw.splitlines():
        m = LINE.match(ln)
        if m:
            insns.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)))
    errors = []
    for i, (pc, word, mn, ops) in enumerate(insns):
        if EXCL.match(mn):
            errors.append('0x%x: load/store exclusive: %s %s' % (pc, mn, ops))
        if (word & 0x3b000000) == 0x18000000:
            errors.append('0x%x: literal load: %s %s' % (pc, mn, ops))
        if mn in ('.word', '.inst', 'udf') or mn.startswith('.'):
            errors.append('0x%x: data in .text: %s %s' % (pc, mn, ops))
        if mn in ('adr', 'adrp'):
            reg, tgt = ops.split(',')[0].strip(), ops.split(',')[1].strip().split()[0]
            if int(tgt, 16) < TEXT_END:
                base = re.compile(r'\[%s\b' % re.escape(reg))
                for (pc2, _, mn2, ops2) in insns[i + 1:i + 12]:
                    if mn2.startswith('ld') and base.search(ops2):
                        errors.append('0x%x: load through %s = text address (%s at 0x%x)' % (pc2, reg, mn, pc))
                        break
                    if ops2.split(',')[0].strip() == reg and not mn2.startswith(('st', 'cmp', 'tst', 'b', 'cb')):
                        break   # register overwritten
    n = len(insns)
    for e in errors:
        print(e)
    print('%s: %d instructions, %d bytes of text, %d problems' % (elf, n, 4 * n, len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
