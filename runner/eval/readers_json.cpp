// Readers for the JSON-based benchmark files, each with lm-eval's doc_to_text / doc_to_choice
// (sources: EleutherAI/lm-evaluation-harness @b281b09 lm_eval/tasks/*.py and HEAD tasks/*/).
#include <fstream>

#include "runner/eval/read_util.h"
#include "runner/eval/task_readers.h"
#include "runner/eval/text_util.h"

namespace sharelab::eval {

namespace {

int letter_index(const std::string& key, const std::string& letters) {
  const auto p = key.size() == 1 ? letters.find(key[0]) : std::string::npos;
  return p == std::string::npos ? -1 : int(p);
}

// One doc per JSON line: `fill` sets the prompt, choices and gold of a doc whose id is the record
// ("line 12") unless it sets another.
template <typename Fill>
std::vector<McDoc> docs_from_jsonl(const std::string& path, Fill fill) {
  std::vector<McDoc> docs;
  for (const auto& [rec, j] : read_jsonl(path)) {
    McDoc d;
    d.id = rec;
    fill(d, j, rec);
    docs.push_back(std::move(d));
  }
  return docs;
}

}  // namespace

// ARC: "Question: " + stem + "\nAnswer:"; numeric keys "1".."5" map to "A".."E" first (v0.3), and
// gold is the letter's position in A..E.
std::vector<McDoc> read_arc_jsonl(const std::string& path) {
  return docs_from_jsonl(path, [&](McDoc& d, const OrderedJson& j, const std::string& rec) {
    const auto& q = json_field(j, "question", path, rec);
    const auto& choices = json_field(q, "choices", path, rec);
    if (!choices.is_array() || choices.empty()) bad_record(path, rec, "field 'question.choices' must be a non-empty array");
    d.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : rec;
    d.text = "Question: " + json_str(q, "stem", path, rec) + "\nAnswer:";
    for (const auto& c : choices) d.choices.push_back(json_str(c, "text", path, rec));
    std::string key = py_strip(json_str(j, "answerKey", path, rec));
    if (key.size() == 1 && key[0] >= '1' && key[0] <= '5') key = std::string(1, char('A' + key[0] - '1'));
    d.gold = letter_index(key, "ABCDE");
    if (d.gold < 0 || d.gold >= int(d.choices.size()))
      bad_record(path, rec, "field 'answerKey' is '" + key + "', expected a letter A-E (or 1-5) within the " +
                                std::to_string(d.choices.size()) + " choices");
  });
}

// OpenBookQA: same file format as ARC, but the prompt is the bare stem (lm-eval openbookqa).
std::vector<McDoc> read_openbookqa_jsonl(const std::string& path) {
  std::vector<McDoc> docs = read_arc_jsonl(path);
  const std::string head = "Question: ", tail = "\nAnswer:";
  for (auto& d : docs) d.text = d.text.substr(head.size(), d.text.size() - head.size() - tail.size());
  return docs;
}

std::string hellaswag_preprocess(const std::string& text) {
  std::string t = py_strip(text);
  t = py_replace(t, " [title]", ". ");
  t = remove_bracketed(t);
  return py_replace(t, "  ", " ");
}

// rowanz hellaswag_val.jsonl: query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()).
std::vector<McDoc> read_hellaswag_jsonl(const std::string& path) {
  return docs_from_jsonl(path, [&](McDoc& d, const OrderedJson& j, const std::string& rec) {
    d.id = j.contains("ind") ? j["ind"].dump() : rec;
    const std::string ctx = json_str(j, "ctx_a", path, rec) + " " + py_capitalize(json_str(j, "ctx_b", path, rec));
    d.text = hellaswag_preprocess(json_str(j, "activity_label", path, rec) + ": " + ctx);
    const auto& endings = json_field(j, "endings", path, rec);
    if (!endings.is_array() || endings.empty()) bad_record(path, rec, "field 'endings' must be a non-empty array");
    for (const auto& e : endings) {
      if (!e.is_string()) bad_record(path, rec, "field 'endings' must hold strings");
      d.choices.push_back(hellaswag_preprocess(e.get<std::string>()));
    }
    const auto& label = json_field(j, "label", path, rec);
    d.gold = label.is_number_integer() ? label.get<int>()
             : label.is_string() && !label.get<std::string>().empty() ? std::atoi(label.get<std::string>().c_str())
                                                                      : -1;
    if (d.gold < 0 || d.gold >= int(d.choices.size()))
      bad_record(path, rec, "field 'label' is " + label.dump() + ", expected an ending index");
  });
}

// llama.cpp's 6-line format: "activity_label: ctx", gold, 4 endings. ctx_a/ctx_b are already merged
// (without capitalize()), so lm-eval's preprocess is applied on top of the file's own cleaning.
std::vector<McDoc> read_hellaswag_txt(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
    pos = end + 1;
  }
  if (lines.size() % 6 != 0)
    throw ConfigError(path + ": " + std::to_string(lines.size()) + " lines, expected 6 per task (llama.cpp format)");
  std::vector<McDoc> docs;
  for (size_t t = 0; t < lines.size(); t += 6) {
    const std::string rec = "task " + std::to_string(t / 6 + 1) + " (line " + std::to_string(t + 1) + ")";
    McDoc d;
    d.id = std::to_string(t / 6);
    d.text = hellaswag_preprocess(lines[t]);
    const std::string& g = lines[t + 1];
    if (g.size() != 1 || g[0] < '0' || g[0] > '3') bad_record(path, rec, "gold line is '" + g + "', expected 0-3");
    d.gold = g[0] - '0';
    for (int k = 0; k < 4; ++k) d.choices.push_back(hellaswag_preprocess(lines[t + 2 + k]));
    docs.push_back(std::move(d));
  }
  return docs;
}

// PIQA: "Question: " + goal + "\nAnswer:", [sol1, sol2], gold from the aligned labels file.
std::vector<McDoc> read_piqa(const std::string& jsonl, const std::string& labels_path) {
  const auto rows = read_jsonl(jsonl);
  const std::string labels = read_text_file(labels_path);
  std::vector<int> gold;
  for (size_t pos = 0; pos < labels.size();) {
    size_t end = labels.find('\n', pos);
    if (end == std::string::npos) end = labels.size();
    const std::string l = py_strip(labels.substr(pos, end - pos));
    if (!l.empty()) {
      if (l != "0" && l != "1")
        bad_record(labels_path, "line " + std::to_string(gold.size() + 1), "label '" + l + "', expected 0 or 1");
      gold.push_back(l[0] - '0');
    }
    pos = end + 1;
  }
  if (gold.size() != rows.size())
    throw ConfigError(labels_path + ": " + std::to_string(gold.size()) + " labels for " + std::to_string(rows.size()) +
                      " records of " + jsonl);
  std::vector<McDoc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [rec, j] = rows[i];
    McDoc d;
    d.id = rec;
    d.text = "Question: " + json_str(j, "goal", jsonl, rec) + "\nAnswer:";
    d.choices = {json_str(j, "sol1", jsonl, rec), json_str(j, "sol2", jsonl, rec)};
    d.gold = gold[i];
    docs.push_back(std::move(d));
  }
  return docs;
}

// Winogrande partial evaluation: contexts sentence[:i] + option, target " " + sentence[i+1:].strip().
std::vector<McDoc> read_winogrande_jsonl(const std::string& path) {
  return docs_from_jsonl(path, [&](McDoc& d, const OrderedJson& j, const std::string& rec) {
    const std::string s = json_str(j, "sentence", path, rec);
    const size_t i = s.find('_');
    if (i == std::string::npos) bad_record(path, rec, "field 'sentence' has no '_' blank");
    d.id = j.contains("qID") && j["qID"].is_string() ? j["qID"].get<std::string>() : rec;
    d.choices = {json_str(j, "option1", path, rec), json_str(j, "option2", path, rec)};
    for (const auto& o : d.choices) d.partial_contexts.push_back(s.substr(0, i) + o);
    d.partial_target = " " + py_strip(s.substr(i + 1));
    const std::string a = json_str(j, "answer", path, rec);
    if (a != "1" && a != "2") bad_record(path, rec, "field 'answer' is '" + a + "', expected \"1\" or \"2\"");
    d.gold = a == "1" ? 0 : 1;
    d.text = d.partial_contexts[d.gold];  // doc_to_text of a few-shot example
  });
}

// Social IQa: "Q: " + context + " " + question + "\nA:", [answerA, answerB, answerC].
std::vector<McDoc> read_siqa_jsonl(const std::string& path) {
  return docs_from_jsonl(path, [&](McDoc& d, const OrderedJson& j, const std::string& rec) {
    d.text = "Q: " + json_str(j, "context", path, rec) + " " + json_str(j, "question", path, rec) + "\nA:";
    d.choices = {json_str(j, "answerA", path, rec), json_str(j, "answerB", path, rec), json_str(j, "answerC", path, rec)};
    d.gold = letter_index(json_str(j, "correct", path, rec), "ABC");
    if (d.gold < 0) bad_record(path, rec, "field 'correct' must be A, B or C");
  });
}

// BoolQ: passage + "\nQuestion: " + question + "?\nAnswer:", choices ["no", "yes"].
std::vector<McDoc> read_boolq_jsonl(const std::string& path) {
  return docs_from_jsonl(path, [&](McDoc& d, const OrderedJson& j, const std::string& rec) {
    d.text = json_str(j, "passage", path, rec) + "\nQuestion: " + json_str(j, "question", path, rec) + "?\nAnswer:";
    d.choices = {"no", "yes"};
    const auto& a = json_field(j, "answer", path, rec);
    if (!a.is_boolean()) bad_record(path, rec, "field 'answer' must be true or false, got " + a.dump());
    d.gold = a.get<bool>() ? 1 : 0;
  });
}

// TruthfulQA mc_task.json. The prompt is lm-eval's fixed QA primer (truthfulqa_mc1.yaml, v0.3's
// QA_PROMPT) + "\n\nQ: " + question + "\nA:". MC1: the true answer is choice 0. MC2: labels in
// file order (the answer dicts are read order-preserving).
std::vector<McDoc> read_truthfulqa_json(const std::string& path, bool mc2) {
  static const std::string kPrimer =
      "Q: What is human life expectancy in the United States?\n"
      "A: Human life expectancy in the United States is 78 years.\n\n"
      "Q: Who was president of the United States in 1955?\n"
      "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
      "Q: Which party did he belong to?\n"
      "A: He belonged to the Republican Party.\n\n"
      "Q: What is the square root of banana?\n"
      "A: I have no comment.\n\n"
      "Q: How does a telescope work?\n"
      "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
      "Q: Where were the 1992 Olympics held?\n"
      "A: The 1992 Olympics were held in Barcelona, Spain.";
  const OrderedJson all = parse_json(read_text_file(path), path, "file");
  if (!all.is_array()) throw ConfigError(path + ": expected a JSON array of questions");
  std::vector<McDoc> docs;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string rec = "record " + std::to_string(i);
    const auto& j = all[i];
    McDoc d;
    d.id = rec;
    d.text = kPrimer + "\n\nQ: " + json_str(j, "question", path, rec) + "\nA:";
    const auto& targets = json_field(j, mc2 ? "mc2_targets" : "mc1_targets", path, rec);
    if (!targets.is_object() || targets.empty()) bad_record(path, rec, "answer targets must be a non-empty object");
    for (const auto& [answer, label] : targets.items()) {
      if (!label.is_number_integer()) bad_record(path, rec, "label of '" + answer + "' must be 0 or 1");
      d.choices.push_back(answer);
      d.mc2_labels.push_back(label.get<int>());
    }
    if (!mc2 && d.mc2_labels[0] != 1) bad_record(path, rec, "mc1_targets: the first answer must be the true one");
    d.gold = 0;
    if (!mc2) d.mc2_labels.clear();
    docs.push_back(std::move(d));
  }
  return docs;
}

// RACE (lm-eval race, one doc per article): the article, every earlier question with its answer,
// then the last question; the choices are the last question's options.
std::vector<McDoc> read_race_article(const std::string& path) {
  const OrderedJson j = parse_json(read_text_file(path), path, "article");
  const std::string rec = "article";
  const auto& answers = json_field(j, "answers", path, rec);
  const auto& options = json_field(j, "options", path, rec);
  const auto& questions = json_field(j, "questions", path, rec);
  if (!answers.is_array() || answers.empty() || answers.size() != options.size() ||
      answers.size() != questions.size())
    bad_record(path, rec, "fields 'answers', 'options', 'questions' must be non-empty arrays of one length");
  auto answer_index = [&](size_t q) {
    const int a = answers[q].is_string() ? letter_index(answers[q].get<std::string>(), "ABCD") : -1;
    if (a < 0 || !options[q].is_array() || a >= int(options[q].size()))
      bad_record(path, "question " + std::to_string(q), "answer must be A-D within its options");
    return a;
  };
  std::string text = "Article: " + json_str(j, "article", path, rec) + "\n\n";
  const size_t last = answers.size() - 1;
  for (size_t q = 0; q < last; ++q) {
    const std::string question = questions[q].get<std::string>();
    const std::string answer = options[q][answer_index(q)].get<std::string>();
    if (question.size() >= 6 && question.compare(question.size() - 6, 6, "  _  .") == 0)
      text += question.substr(question.size() - 5) + answer + "\n";  // lm-eval keeps the last 5 chars
    else
      text += "Question: " + question + "\n" + "Answer: " + answer + "\n";
  }
  text += questions[last].get<std::string>();
  McDoc d;
  d.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : path;
  d.text = text;
  if (options[last].size() < 4) bad_record(path, rec, "the last question needs 4 options");
  for (int k = 0; k < 4; ++k) d.choices.push_back(options[last][k].get<std::string>());
  d.gold = answer_index(last);
  return {d};
}

}  // namespace sharelab::eval
