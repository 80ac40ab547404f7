/* The Flex preview page: renders the pasted JSON with LineFlex and shows the server's check. */
(function () {
  "use strict";

  var source = document.getElementById("flex-json");
  var screen = document.getElementById("flex-screen");
  var log = document.getElementById("flex-log");
  var checks = document.getElementById("flex-check");
  var samples = document.getElementById("flex-sample");

  function line(tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function kilobytes(bytes) {
    return (bytes / 1024).toLocaleString("th-TH", { maximumFractionDigits: 1 }) + " KB";
  }

  function logAction(action) {
    var entry = line("li", window.LineFlex.describeAction(action));
    log.insertBefore(entry, log.firstChild);
  }

  function showRendered(text) {
    screen.textContent = "";
    log.textContent = "";
    var message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      screen.appendChild(line("p", "แสดงผลไม่ได้ เพราะ JSON ไม่ถูกต้องค่ะ", "fp-empty"));
      return;
    }
    screen.appendChild(window.LineFlex.render(message, { onAction: logAction }));
  }

  function showVerdict(verdict) {
    checks.textContent = "";
    var size = line("p", "", "fp-size");
    size.appendChild(document.createTextNode("ขนาด JSON " + verdict.size.toLocaleString("th-TH") +
      " ไบต์ (" + kilobytes(verdict.size) + ") จากที่ LINE รับได้ " +
      verdict.limit.toLocaleString("th-TH") + " ไบต์ (" + kilobytes(verdict.limit) + ") "));
    var over = verdict.size > verdict.limit;
    size.appendChild(line("span", over ? "เกินขนาด" : "ไม่เกิน", over ? "fp-over" : "fp-ok"));
    checks.appendChild(size);
    if (!verdict.problems.length) {
      checks.appendChild(line("p", "ผ่านการตรวจ", "fp-ok"));
    } else {
      checks.appendChild(line("p", "LINE จะไม่รับข้อความนี้ พบปัญหา " + verdict.problems.length +
        " ข้อค่ะ", "fp-over"));
      var problems = document.createElement("ul");
      problems.className = "fp-problems";
      verdict.problems.forEach(function (problem) {
        var item = document.createElement("li");
        item.appendChild(line("code", problem.property || "(ทั้งข้อความ)"));
        item.appendChild(document.createTextNode(": " + problem.message));
        problems.appendChild(item);
      });
      checks.appendChild(problems);
    }
    if (!verdict.schema) {
      checks.appendChild(line("p", "ไม่พบไฟล์ OpenAPI ของ LINE จึงตรวจเฉพาะขนาดและข้อจำกัดที่ LINE " +
        "ประกาศไว้ ไม่ได้ตรวจโครงสร้างตาม schema ค่ะ", "fp-note"));
    }
  }

  function check(text) {
    checks.textContent = "";
    checks.dataset.state = "checking";
    checks.appendChild(line("p", "กำลังตรวจ…"));
    fetch(checks.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: text,
    }).then(function (response) {
      return response.json().then(function (body) {
        checks.textContent = "";
        if (response.ok) showVerdict(body);
        else checks.appendChild(line("p", body.error || "ตรวจไม่สำเร็จค่ะ", "fp-error"));
        checks.dataset.state = "done";
      });
    }).catch(function () {
      checks.textContent = "";
      checks.appendChild(line("p", "ติดต่อเซิร์ฟเวอร์ไม่ได้ค่ะ", "fp-error"));
      checks.dataset.state = "done";
    });
  }

  function show() {
    showRendered(source.value);
    check(source.value);
  }

  document.getElementById("flex-show").addEventListener("click", show);

  samples.addEventListener("change", function () {
    if (!samples.value) return;
    var url = samples.dataset.url.replace("NAME", encodeURIComponent(samples.value));
    fetch(url).then(function (response) { return response.json(); }).then(function (message) {
      source.value = JSON.stringify(message, null, 2);
      show();
    });
  });
})();
