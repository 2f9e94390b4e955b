// analysis: the paper tables and loss plots, regenerated from the results database. Links no
// LibTorch: a pure function of the database, experiments/*.table.toml and the cost model.
//   analysis tables --table 1|5|10|11|mobilellm-sharing|...|all [--format md|tex|csv] [--db PATH] [--sweep NAME]
//   analysis plot [--sweep NAME] [--db PATH] [--out results/plots]
//   analysis compare --sweep NAME A B [--metric final_val_loss] [--db PATH]
//   analysis findings --sweep NAME [--db PATH] [--experiments DIR]
//   analysis report --sweep NAME --out DIR [--db PATH] [--experiments DIR]
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "analysis/compare.h"
#include "analysis/findings.h"
#include "analysis/html_report.h"
#include "analysis/plots.h"
#include "analysis/report.h"
#include "common/errors.h"
#include "common/cli.h"

namespace po = sharelab::runner::po;
using namespace sharelab;

namespace {

// The runner's Boost.Program_options helper (header-only, torch-free): same errors, same --help.
bool parse(const std::string& usage, po::options_description& opts, const std::vector<std::string>& args,
           po::variables_map& vm) {
  return runner::parse_command(usage, opts, {}, args, vm);
}

int cmd_tables(const std::vector<std::string>& args) {
  po::options_description opts("analysis tables");
  analysis::TablesRequest req;
  std::string format, out;
  opts.add_options()("table", po::value(&req.table)->default_value("all"), "table id (experiments/*.table.toml) or all")(
      "format", po::value(&format)->default_value("md"), "md, tex or csv")(
      "db", po::value(&req.db)->default_value(store::kDefaultDb), "results database")(
      "sweep", po::value(&req.sweep)->default_value(""), "only runs of this sweep ('' = any)")(
      "experiments", po::value(&req.experiments)->default_value("experiments"), "folder of table definitions")(
      "reference", po::value(&req.build.reference)->default_value(""),
      "a row label: add each row's difference to it, paired by seed (the columns marked diff, else every measured "
      "one)")("mfu", po::value(&req.build.mfu)->default_value(0),
      "override the utilisation of every projection (0 = as defined)")("out", po::value(&out)->default_value(""),
                                                                       "write to this file instead of stdout");
  po::variables_map vm;
  const char* usage =
      "analysis tables --table 1|5|10|11|mobilellm-sharing|mobilellm-depth|mobilellm-embedding|all "
      "[--format md|tex|csv] [--db PATH] [--sweep NAME]";
  if (!parse(usage, opts, args, vm)) return 0;
  req.format = analysis::parse_format(format);
  const std::string text = analysis::render_tables(req);
  if (out.empty()) {
    std::cout << text;
  } else {
    if (auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
    analysis::write_text_atomic(out, text);
    std::cerr << "analysis: wrote " << out << "\n";
  }
  return 0;
}

int cmd_plot(const std::vector<std::string>& args) {
  po::options_description opts("analysis plot");
  analysis::PlotOptions o;
  std::string db;
  opts.add_options()("sweep", po::value(&o.sweep)->default_value(""), "runs of this sweep ('' = all runs)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database")(
      "out", po::value(&o.out_dir)->default_value("results/plots"), "output folder")(
      "gnuplot", po::value(&o.gnuplot)->default_value("gnuplot"), "gnuplot executable");
  po::variables_map vm;
  if (!parse("analysis plot [--sweep NAME] [--db PATH] [--out results/plots]", opts, args, vm)) return 0;
  if (!std::filesystem::exists(db)) throw ConfigError("analysis plot: no database at " + db + " (--db)");
  if (!analysis::gnuplot_available(o.gnuplot))
    throw ConfigError("analysis plot: '" + o.gnuplot + "' does not run; install Debian's gnuplot-nox (make setup)");
  store::ResultsStore store(db);
  for (const auto& f : analysis::plot_validation(store, o)) std::cout << f << "\n";
  return 0;
}

int cmd_compare(const std::vector<std::string>& args) {
  po::options_description opts("analysis compare");
  std::string db, sweep, a, b, metric;
  opts.add_options()("a", po::value(&a)->required(), "reference arm: run name or preset")(
      "b", po::value(&b)->required(), "compared arm: run name or preset")(
      "metric", po::value(&metric)->default_value("final_val_loss"),
      "run scalar (final_val_loss, val_loss, final_train_loss, ...) or task/metric (hellaswag/acc_norm)")(
      "sweep", po::value(&sweep)->default_value(""), "runs of this sweep ('' = any)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database");
  po::positional_options_description pos;
  pos.add("a", 1).add("b", 1);
  po::variables_map vm;
  if (!runner::parse_command("analysis compare --sweep NAME A B [--metric final_val_loss] [--db PATH]", opts, pos,
                             args, vm))
    return 0;
  if (!std::filesystem::exists(db)) throw ConfigError(db + ": no results database (run a sweep first)");
  store::ResultsStore store(db);
  const analysis::DbView view = analysis::load_view(store, sweep);
  std::cout << analysis::format_comparison(analysis::compare_arms(view, a, b, metric), metric);
  return 0;
}

int cmd_findings(const std::vector<std::string>& args) {
  po::options_description opts("analysis findings");
  std::string db, sweep, experiments;
  opts.add_options()("sweep", po::value(&sweep)->default_value(""), "runs of this sweep ('' = any)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database")(
      "experiments", po::value(&experiments)->default_value("experiments"),
      "folder of table definitions and their [[claim]]s");
  po::variables_map vm;
  if (!parse("analysis findings --sweep NAME [--db PATH] [--experiments DIR]", opts, args, vm)) return 0;
  const auto specs = analysis::load_table_specs(experiments);
  if (!std::filesystem::exists(db)) throw ConfigError(db + ": no results database (run a sweep first)");
  store::ResultsStore store(db);
  const analysis::DbView view = analysis::load_view(store, sweep);
  std::cout << analysis::format_findings(analysis::evaluate_claims(specs, view), view);
  return 0;
}

// The machine line of the report: the CPU model and core count, from /proc/cpuinfo when readable.
std::string machine_line() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  int cores = 0;
  while (std::getline(in, line)) {
    if (line.rfind("processor", 0) == 0) ++cores;
    if (model.empty() && line.rfind("model name", 0) == 0) model = line.substr(line.find(':') + 2);
  }
  if (model.empty()) return "";
  return fmt::format("this machine: {} logical CPU(s), {}", cores, model);
}

int cmd_report(const std::vector<std::string>& args) {
  po::options_description opts("analysis report");
  std::string db, sweep, experiments, out, question;
  opts.add_options()("sweep", po::value(&sweep)->required(), "the sweep to report")(
      "out", po::value(&out)->required(), "folder for index.html (created; an existing index.html is replaced)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database")(
      "experiments", po::value(&experiments)->default_value("experiments"), "folder of table definitions")(
      "question", po::value(&question)->default_value(""), "one line under the title (e.g. the sweep's question)");
  po::variables_map vm;
  if (!parse("analysis report --sweep NAME --out DIR [--db PATH] [--experiments DIR]", opts, args, vm)) return 0;
  const auto specs = analysis::load_table_specs(experiments);
  if (!std::filesystem::exists(db)) throw ConfigError(db + ": no results database (run a sweep first)");
  store::ResultsStore store(db);
  analysis::ReportInput in;
  in.sweep = sweep;
  in.db_path = db;
  in.question = question;
  in.machine = machine_line();
  const analysis::DbView view = analysis::load_view(store, sweep);
  if (view.runs.empty()) throw ConfigError(fmt::format("--sweep {}: no run of that sweep in {}", sweep, db));
  // The tables that have a measured value from this sweep (a table of another sweep is all "missing").
  for (const auto& spec : specs) {
    analysis::Table t = analysis::build_table(spec, view, {});
    bool measured = false;
    for (const auto& row : t.rows)
      for (const auto& cell : row) measured |= cell.provenance.rfind("measured", 0) == 0;
    if (measured) in.tables.push_back(std::move(t));
  }
  in.findings = analysis::evaluate_claims(specs, view);
  in.curves = analysis::load_curves(store, view);
  std::filesystem::create_directories(out);
  const std::string path = (std::filesystem::path(out) / "index.html").string();
  analysis::write_text_atomic(path, analysis::render_html_report(in));
  std::cout << path << "\n";
  return 0;
}

void usage(std::ostream& out) {
  out << "usage: analysis tables [--table ID|all] [--format md|tex|csv] [--db PATH] [--sweep NAME]\n"
         "       analysis plot [--sweep NAME] [--db PATH] [--out DIR]\n"
         "       analysis compare --sweep NAME A B [--metric final_val_loss] [--db PATH]\n"
         "       analysis findings --sweep NAME [--db PATH] [--experiments DIR]\n"
         "       analysis report --sweep NAME --out DIR [--db PATH] [--experiments DIR]\n"
         "(analysis COMMAND --help for every option)\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? kExitUsage : 0;
  }
  try {
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "tables") return cmd_tables(rest);
    if (args[0] == "plot") return cmd_plot(rest);
    if (args[0] == "compare") return cmd_compare(rest);
    if (args[0] == "findings") return cmd_findings(rest);
    if (args[0] == "report") return cmd_report(rest);
    throw ConfigError("unknown command '" + args[0] + "'; known: tables, plot, compare, findings, report");
  } catch (const ConfigError& e) {
    std::cerr << "analysis: error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "analysis: error: " << e.what() << "\n";
    return kExitRuntime;
  }
}
