#include "mt_gates.h"
#include "mt_access.h"
#include "mt_errors.h"
#include "mt_label.h"
#include "mt_leak.h"
#include "mt_options.h"
#include "mt_sites.h"

// The ERROR SUMMARY's count. Not in Valgrind's tool headers, but exported
// by the core library memtrack links statically (pub_core_errormgr.h).
extern "C" UInt VG_(get_n_errs_found)(void);

namespace mt::gates {

namespace {

struct Hit {
  bool hit;
  bool suppressed;       // by a Memtrack:Limit suppression: no SARIF result
  errors::Breach b;      // what was measured, and the site that contributed most
  ExeContext* where;
};
Hit g_breach[3];  // by errors::Limit

// The site with the largest figure, by metric.
template <class F> Site* largest(F metric) {
  Site* best = nullptr;
  ULong most = 0;
  sites::each([&](Site* s) {
    ULong v = metric(s);
    if (v > most || !best) { most = v; best = s; }
  });
  return best;
}

void breach(ThreadId tid, const errors::Breach& b, Site* s) {
  Hit& h = g_breach[static_cast<int>(b.which)];
  h.hit = true;
  h.b = b;
  h.where = s ? s->ec : VG_(null_ExeContext)();
  h.suppressed = errors::limit_exceeded(tid, b, h.where);
}

// What memtrack's own figures call lost (mt_leak_kinds.h, kLostKinds).
UInt lost_kinds() { return g_opts.lost_kinds; }
bool is_lost(UInt k) { return lost_kinds() & (1u << k); }

ULong lost_at(const Site* s) {
  ULong n = 0;
  for (UInt k = 0; k < leak::kKindBits; k++)
    if (is_lost(k)) n += s->leak_bytes[k];
  return n;
}

ULong lost_blocks_at(const Site* s) {
  ULong n = 0;
  for (UInt k = 0; k < leak::kKindBits; k++)
    if (is_lost(k)) n += s->leak_blocks[k];
  return n;
}

// The exit search's lost figure: the LEAK SUMMARY's lines of the lost kinds.
void lost_total(ULong* bytes, ULong* blocks) {
  const leak::Counts& c = leak::found_counts();
  *bytes = *blocks = 0;
  for (UInt k = 0; k < leak::kKindBits; k++)
    if (is_lost(k)) { *bytes += c.bytes[k]; *blocks += c.blocks[k]; }
}

// ---- files -----------------------------------------------------------------

void json_string(OutFile& f, const char* s) {
  StrBuf b;
  b.init("mt.gates.json");
  b.append_char('"');
  b.append_json(s ? s : "");
  b.append_char('"');
  f.write(b.c_str(), b.len());
  b.free();
}

const char* const kLimitNames[] = {"peak", "total", "leak"};

ULong limit_of(int i) {
  return i == 0 ? g_opts.peak_limit : i == 1 ? g_opts.total_limit : g_opts.leak_limit;
}

void write_summary(const char* path) {
  OutFile f;
  if (!f.open_output("--summary-file", path)) return;
  const Totals& t = sites::totals();
  StrBuf cmd;
  cmd.init("mt.gates.cmd");
  client_command_line(&cmd);
  f.puts("{\"memtrackSummaryVersion\":2,\"cmd\":");
  json_string(f, cmd.c_str());
  cmd.free();
  // The parent's pid too, so the summaries of a process tree (a server's
  // master and workers under --trace-children=yes) can be put back together.
  f.printf(",\"pid\":%d,\"ppid\":%d", VG_(getpid)(), VG_(getppid)());
  f.printf(",\"mode\":\"%s\"", g_opts.mode == Mode::kHeap ? "heap" : g_opts.mode == Mode::kCopy ? "copy" : "ad-hoc");
  f.printf(",\"total\":{\"bytes\":%llu,\"blocks\":%llu}", t.tot_bytes, t.tot_blocks);
  if (g_opts.mode == Mode::kHeap) {
    f.printf(",\"peak\":{\"bytes\":%llu,\"blocks\":%llu,\"t\":%llu}", t.max_bytes, t.max_blocks, t.tgmax);
    f.printf(",\"end\":{\"bytes\":%llu,\"blocks\":%llu}", t.cur_bytes, t.cur_blocks);
    f.printf(",\"instructions\":%llu", g_instrs);
    if (g_opts.access_tracking) {
      ULong r, w;
      access::fold_counts();
      sites::access_totals(&r, &w);
      f.printf(",\"reads\":%llu,\"writes\":%llu", r, w);
    }
  }
  if (leak::exit_analysed()) {
    const leak::Counts& c = leak::found_counts();
    f.puts(",\"leaks\":{");
    for (int k = leak::kDefinite; k >= 0; k--)
      f.printf("%s\"%s\":{\"bytes\":%llu,\"blocks\":%llu}", k == leak::kDefinite ? "" : ",", leak::names(k).token,
               c.bytes[k], c.blocks[k]);
    f.printf(",\"suppressed\":{\"bytes\":%llu,\"blocks\":%llu}}", c.supp_bytes, c.supp_blocks);
    // The figure --leak-limit compares: the kinds of --lost-kinds added up.
    ULong bytes, blocks;
    lost_total(&bytes, &blocks);
    f.puts(",\"lost\":{\"kinds\":[");
    bool first = true;
    for (int k = leak::kDefinite; k >= 0; k--)
      if (is_lost(k)) { f.printf("%s\"%s\"", first ? "" : ",", leak::names(k).token); first = false; }
    f.printf("],\"bytes\":%llu,\"blocks\":%llu}", bytes, blocks);
  } else {
    f.puts(",\"leaks\":null,\"lost\":null");
  }
  f.printf(",\"errors\":%u", VG_(get_n_errs_found)());
  f.puts(",\"limits\":[");
  bool first = true;
  for (int i = 0; i < 3; i++) {
    if (!limit_of(i)) continue;
    f.printf("%s{\"name\":\"%s\",\"limit\":%llu,\"exceeded\":%s", first ? "" : ",", kLimitNames[i], limit_of(i),
             g_breach[i].hit ? "true" : "false");
    if (g_breach[i].hit)
      f.printf(",\"value\":%llu,\"suppressed\":%s", g_breach[i].b.value, g_breach[i].suppressed ? "true" : "false");
    f.puts("}");
    first = false;
  }
  f.puts("]}\n");
  f.close_output();
}

// A URI (RFC 3986), not a path: an absolute path becomes a file:// URI,
// which code-scanning uploads make relative to the checkout; every byte but
// the unreserved ones and '/' is percent-encoded.
void append_uri(StrBuf* uri, const char* dir, const char* file) {
  const bool with_dir = dir && dir[0] && file[0] != '/';
  if (file[0] == '/' || (with_dir && dir[0] == '/')) uri->append("file://");
  for (int part = with_dir ? 0 : 1; part < 2; part++) {
    for (const UChar* c = reinterpret_cast<const UChar*>(part ? file : dir); *c; c++) {
      if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
          *c == '.' || *c == '_' || *c == '~' || *c == '/')
        uri->append_char(static_cast<char>(*c));
      else
        uri->appendf("%%%02X", *c);
    }
    if (!part) uri->append_char('/');
  }
}

// The object file of the first frame outside the allocator, for a stack
// without any source line: code scanning wants a location for every result.
struct Source {
  StrBuf* uri;
  UInt line;
  bool found;
  const HChar* object;  // first non-allocator frame's object file, or null
};

void source_frame(UInt, DiEpoch ep, Addr ip, void* opaque) {
  Source* src = static_cast<Source*>(opaque);
  if (src->found) return;
  const HChar *file, *dir, *obj;
  UInt ln;
  if (!src->object && VG_(get_objname)(ep, ip, &obj) && !VG_(strstr)(obj, "/vgpreload_")) src->object = obj;
  if (!VG_(get_filename_linenum)(ep, ip, &file, &dir, &ln)) return;
  if (VG_(strstr)(file, "vg_replace_malloc") || VG_(strstr)(file, "mt_preload")) return;
  append_uri(src->uri, dir, file);
  src->line = ln;
  src->found = true;
}

// --sarif-root (or the current directory), absolute and normalised.
const HChar* sarif_root() {
  static StrBuf root;
  static bool made;
  if (!made) {
    root.init("mt.gates.root");
    label::absolute_path(g_opts.sarif_root ? g_opts.sarif_root : ".", &root);
    made = true;
  }
  return root.c_str();
}

// Where a result points (the one place that chooses it): the first frame
// the site labels count as the program's own code (mt_label: not an
// allocator, not the C++ or Rust standard library, not libc) whose file
// lies under --sarif-root, by its path relative to the root
// (*relative: the uri has uriBaseId %SRCROOT%), as code-scanning services
// want. Without one, the label's frame by its absolute path; then the
// first source line outside the allocator; then the object file of the
// first frame outside it, without a line. False if the stack has nothing
// to point at.
bool source_of(ExeContext* ec, StrBuf* uri, UInt* line, bool* relative) {
  *relative = false;
  if (!ec) return false;
  StrBuf rel;
  rel.init("mt.gates.rel");
  if (label::first_under(ec, sarif_root(), &rel, line)) {
    append_uri(uri, nullptr, rel.c_str());
    rel.free();
    *relative = true;
    return true;
  }
  rel.free();
  StrBuf text, abs;
  text.init("mt.gates.label");
  abs.init("mt.gates.label");
  bool labelled = label::label_of(ec, &text, &abs, line) && abs.len();
  if (labelled) append_uri(uri, nullptr, abs.c_str());
  text.free();
  abs.free();
  if (labelled) return true;
  Source src = {uri, 0, false, nullptr};
  VG_(apply_ExeContext)(source_frame, &src, ec);
  if (!src.found && src.object && src.object[0]) append_uri(uri, nullptr, src.object);
  *line = src.line;
  return src.found || (src.object && src.object[0]);
}

// The stack as text, one frame per line, for the result's message.
void text_frame(UInt, DiEpoch ep, Addr ip, void* opaque) {
  StrBuf* out = static_cast<StrBuf*>(opaque);
  InlIPCursor* c = VG_(new_IIPC)(ep, ip);
  do {
    out->append("\n  ");
    out->append(sites::frame_text(ep, ip, c));
  } while (VG_(next_IIPC)(c));
  VG_(delete_IIPC)(c);
}

void stack_text(ExeContext* ec, StrBuf* out) { VG_(apply_ExeContext)(text_frame, out, ec); }

struct Sarif {
  OutFile* f;
  bool first;
};

// props: the result's "properties" object's members (JSON, without braces),
// or null.
void sarif_result(Sarif* s, const char* rule, const char* level, const char* text, ExeContext* ec,
                  const char* props = nullptr) {
  OutFile& f = *s->f;
  f.printf("%s{\"ruleId\":\"%s\",\"level\":\"%s\",\"message\":{\"text\":", s->first ? "" : ",", rule, level);
  StrBuf msg;
  msg.init("mt.gates.msg");
  msg.append(text);
  if (ec) stack_text(ec, &msg);
  json_string(f, msg.c_str());
  msg.free();
  f.puts("}");
  StrBuf uri;
  uri.init("mt.gates.uri");
  UInt line = 0;
  bool relative = false;
  if (source_of(ec, &uri, &line, &relative)) {
    f.puts(",\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
    json_string(f, uri.c_str());
    if (relative) f.puts(",\"uriBaseId\":\"%SRCROOT%\"");
    f.puts("}");
    if (line) f.printf(",\"region\":{\"startLine\":%u}", line);
    f.puts("}}]");
  }
  uri.free();
  if (props) f.printf(",\"properties\":{%s}", props);
  f.puts("}");
  s->first = false;
}

// One result per loss record, as memcheck lists them: its line ("1,960
// (320 direct, 1,640 indirect) bytes in 1 blocks are definitely lost in loss
// record 3 of 5") and the same figures as properties. A definitely lost
// record's indirect bytes are the blocks of the indirectly lost records
// (each a result of its own), so a consumer adds up "bytes" (the direct
// ones): by kind that is the LEAK SUMMARY, over the "lost" records the
// summary file's "lost" and --leak-limit's figure.
void sarif_leak(void* ctx, leak::Kind kind, ULong direct, ULong indirect, ULong blocks, ExeContext* ec, UInt nr,
                UInt of) {
  if (kind == leak::kReachable) return;  // not a defect
  errors::LeakText t = {};
  t.kind = kind;
  t.direct = direct;
  t.indirect = indirect;
  t.blocks = blocks;
  t.n = nr;
  t.of = of;
  char text[240];
  errors::leak_line(t, text, sizeof text);
  char props[240];
  VG_(snprintf)(props, sizeof props,
                "\"kind\":\"%s\",\"lost\":%s,\"bytes\":%llu,\"indirectBytes\":%llu,\"blocks\":%llu,"
                "\"lossRecord\":%u,\"lossRecords\":%u",
                leak::names(kind).token, is_lost(kind) ? "true" : "false", direct, indirect, blocks, nr, of);
  // The level is memcheck's: error for the kinds --errors-for-leak-kinds
  // makes errors.
  const char* level = (g_opts.errors_for_leak_kinds & (1u << kind)) ? "error" : "warning";
  sarif_result(static_cast<Sarif*>(ctx), leak::names(kind).rule, level, text, ec, props);
}

void write_sarif(const char* path) {
  OutFile f;
  if (!f.open_output("--sarif-file", path)) return;
  f.puts("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{");
  f.puts("\"tool\":{\"driver\":{\"name\":\"memtrack\",\"informationUri\":\"https://valgrind.org/\",\"rules\":[");
  // The lost kinds' rules (from definite down), then the limits'.
  static const char* const limit_rules[][2] = {{"peak-limit", "Live heap bytes exceeded --peak-limit"},
                                               {"total-limit", "Bytes allocated exceeded --total-limit"},
                                               {"leak-limit", "Bytes lost exceeded --leak-limit"}};
  auto rule = [&f](const char* sep, const char* id, const char* text) {
    f.printf("%s{\"id\":\"%s\",\"shortDescription\":{\"text\":\"%s\"}}", sep, id, text);
  };
  for (int k = leak::kDefinite; k > leak::kReachable; k--)
    rule(k == leak::kDefinite ? "" : ",", leak::names(k).rule, leak::names(k).rule_text);
  for (const auto& r : limit_rules) rule(",", r[0], r[1]);
  f.puts("]}},\"invocations\":[{\"executionSuccessful\":true,\"commandLine\":");
  StrBuf cmd;
  cmd.init("mt.gates.cmd");
  client_command_line(&cmd);
  json_string(f, cmd.c_str());
  cmd.free();
  f.puts("}],\"originalUriBaseIds\":{\"%SRCROOT%\":{\"uri\":");
  {
    StrBuf root;
    root.init("mt.gates.root");
    append_uri(&root, nullptr, sarif_root());
    if (root.c_str()[root.len() - 1] != '/') root.append_char('/');
    json_string(f, root.c_str());
    root.free();
  }
  f.puts("}},\"results\":[");
  Sarif s = {&f, true};
  if (leak::exit_analysed()) leak::each_record(sarif_leak, &s);
  for (int i = 0; i < 3; i++) {
    if (!g_breach[i].hit || g_breach[i].suppressed) continue;
    // The log's words, so the two say the same.
    char text[1200];
    errors::limit_line(g_breach[i].b, g_breach[i].where, text, sizeof text);
    sarif_result(&s, limit_rules[i][0], "error", text, g_breach[i].where);
  }
  f.puts("]}]}\n");
  f.close_output();
}

}  // namespace

void after_alloc(ThreadId tid) {
  const Totals& t = sites::totals();
  if (g_opts.peak_limit && !g_breach[0].hit && t.cur_bytes > g_opts.peak_limit) {
    Site* s = largest([](Site* x) { return x->cur_bytes; });
    errors::Breach b = {errors::Limit::kPeak, t.cur_bytes, g_opts.peak_limit, s ? s->cur_bytes : 0,
                        s ? s->cur_blocks : 0, {}, 0};
    breach(tid, b, s);
  }
  if (g_opts.total_limit && !g_breach[1].hit && t.tot_bytes > g_opts.total_limit) {
    Site* s = largest([](Site* x) { return x->tot_bytes; });
    errors::Breach b = {errors::Limit::kTotal, t.tot_bytes, g_opts.total_limit, s ? s->tot_bytes : 0,
                        s ? s->tot_blocks : 0, {}, 0};
    breach(tid, b, s);
  }
}

void at_exit() {
  if (!g_opts.leak_limit || !leak::exit_analysed()) return;
  ULong lost, blocks;
  lost_total(&lost, &blocks);
  if (lost <= g_opts.leak_limit) return;
  Site* s = largest([](Site* x) { return lost_at(x); });
  errors::Breach b = {errors::Limit::kLeak, lost, g_opts.leak_limit, s ? lost_at(s) : 0, s ? lost_blocks_at(s) : 0,
                      {}, lost_kinds()};
  const leak::Counts& c = leak::found_counts();
  for (UInt k = 0; k < leak::kKindBits; k++) b.parts[k] = c.bytes[k];
  breach(1, b, s);
}

void write_files() {
  if (g_opts.summary_file) {
    HChar* p = options::output_path("--summary-file", g_opts.summary_file);
    write_summary(p);
    VG_(free)(p);
  }
  if (g_opts.sarif_file) {
    HChar* p = options::output_path("--sarif-file", g_opts.sarif_file);
    write_sarif(p);
    VG_(free)(p);
  }
}

}  // namespace mt::gates
