"""memcheck.h's definedness requests and the leak search, against memcheck
(tests/clients/undef_requests.c; mt_undef.h says how memtrack knows it
without shadow bits): VALGRIND_MAKE_MEM_UNDEFINED and _NOACCESS hide the
pointers they cover until the program writes them or makes them defined,
in roots and in heap blocks; memory unmapped or freed forgets it. A custom
allocator's requests (VALGRIND_MALLOCLIKE_BLOCK, FREELIKE_BLOCK, the
mempool ones) change definedness as under memcheck: a stale pointer in a
freed or reused chunk keeps nothing alive. What the
client prints after each search, every record and the summaries must be
memcheck's, in the default summary mode as in full mode.
"""
import pytest

import leak_helpers


@pytest.mark.parametrize("mode", ["summary", "full"])
def test_undefined_pointers_like_memcheck(mode, clients, workdir):
    mt, mc = leak_helpers.run_pair([f"--leak-check={mode}"], [clients.path("undef_requests")], workdir)
    lines = {l[:24].strip(): l[24:].strip() for l in mc.stdout.splitlines() if " leaked " in l}
    # The steps do what they claim under memcheck (else the comparison
    # below proves little): hiding loses a block, writing or defining
    # finds it again.
    assert "request answered -1" in mc.stdout, mc
    leaked = {k: int(v.split()[1]) for k, v in lines.items()}
    assert leaked["allocated"] == 0 and leaked["undefined"] == 1 and leaked["defined again"] == 0, mc
    assert leaked["one byte undefined"] == 1 and leaked["written again"] == 1, mc
    assert leaked["chunk noaccess"] == leaked["pool filled"] + 2, mc
    assert leaked["chunk reused"] == leaked["pool filled"] + 2, mc
    assert leaked["mapping noaccess"] == leaked["chunk reused"] + 1, mc
    assert leaked["mapped again"] == leaked["chunk reused"], mc  # the same word, the same value: found
    assert leaked["holder freed"] == leaked["holder hidden"], mc
    assert leaked["custom block freed"] == leaked["custom block"] + 1, mc
    assert leaked["pool chunk freed"] == leaked["pool chunk"] + 2, mc
    assert leaked["pool chunk again"] == leaked["pool chunk freed"], mc
    leak_helpers.assert_same_leak_output(mt, mc)
