//! Markdown to HTML (WASI, Rust std only): reads Markdown on stdin, writes an HTML fragment on
//! stdout. The common subset: ATX headings, paragraphs, `-`/`*` and `1.` lists, fenced code
//! blocks, block quotes, rules (`---`), and inline `code`, **strong**, *emphasis* and
//! [links](url). Raw HTML in the input is escaped, never passed through, so the output is safe
//! to insert into a page; link targets other than http(s), mailto and relative ones are dropped.

use std::io::{self, Read, Write};

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Targets a reader can follow safely: no `javascript:` or `data:`.
fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    match lower.find(':') {
        None => true,
        Some(colon) => {
            let scheme = &lower[..colon];
            // a colon after a path or query character is not a scheme
            lower[..colon].contains(|c| c == '/' || c == '?' || c == '#') || scheme == "http" || scheme == "https" || scheme == "mailto"
        }
    }
}

/// Inline markup: code spans first (nothing inside them is markup), then links, strong, emphasis.
fn inline(s: &str, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    let text = |a: usize, b: usize| -> String { chars[a..b].iter().collect() };
    let find = |from: usize, pat: &[char]| -> Option<usize> {
        (from..chars.len().saturating_sub(pat.len() - 1)).find(|&j| chars[j..j + pat.len()] == *pat)
    };
    let mut i = 0;
    let mut plain = String::new();
    while i < chars.len() {
        let c = chars[i];
        let mut matched = false;
        if c == '`' {
            if let Some(end) = find(i + 1, &['`']) {
                escape(&plain, out); plain.clear();
                out.push_str("<code>"); escape(&text(i + 1, end), out); out.push_str("</code>");
                i = end + 1; matched = true;
            }
        } else if c == '[' {
            if let Some(close) = find(i + 1, &[']', '(']) {
                if let Some(end) = find(close + 2, &[')']) {
                    let url = text(close + 2, end);
                    escape(&plain, out); plain.clear();
                    if safe_url(&url) {
                        out.push_str("<a href=\""); escape(&url, out); out.push_str("\">");
                        inline(&text(i + 1, close), out);
                        out.push_str("</a>");
                    } else {
                        inline(&text(i + 1, close), out);
                    }
                    i = end + 1; matched = true;
                }
            }
        } else if c == '*' || c == '_' {
            let strong = i + 1 < chars.len() && chars[i + 1] == c;
            let (pat, tag, len): (&[char], &str, usize) = if strong { (if c == '*' { &['*', '*'] } else { &['_', '_'] }, "strong", 2) } else { (if c == '*' { &['*'] } else { &['_'] }, "em", 1) };
            if i + len < chars.len() && chars[i + len] != ' ' {
                if let Some(end) = find(i + len, pat) {
                    if end > i + len {
                        escape(&plain, out); plain.clear();
                        out.push_str(&format!("<{}>", tag)); inline(&text(i + len, end), out); out.push_str(&format!("</{}>", tag));
                        i = end + len; matched = true;
                    }
                }
            }
        }
        if !matched { plain.push(c); i += 1; }
    }
    escape(&plain, out);
}

#[derive(PartialEq)]
enum Block { None, Para, Ul, Ol, Quote }

fn close(block: &mut Block, out: &mut String) {
    match block {
        Block::Para => out.push_str("</p>\n"),
        Block::Ul => out.push_str("</ul>\n"),
        Block::Ol => out.push_str("</ol>\n"),
        Block::Quote => out.push_str("</blockquote>\n"),
        Block::None => {}
    }
    *block = Block::None;
}

/// `1. item` → `item`
fn ordered_item(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits < 10 && line[digits..].starts_with(". ") { Some(&line[digits + 2..]) } else { None }
}

fn main() {
    let mut input = String::new();
    if io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("input is not UTF-8");
        std::process::exit(1);
    }
    let mut out = String::new();
    let mut block = Block::None;
    let mut fence = false;
    for raw in input.lines() {
        let line = raw.trim_end();
        if line.trim_start().starts_with("```") {
            if fence { out.push_str("</code></pre>\n"); fence = false; } else {
                close(&mut block, &mut out);
                let lang = line.trim_start()[3..].trim();
                if lang.is_empty() { out.push_str("<pre><code>"); } else {
                    out.push_str("<pre><code class=\"language-"); escape(lang, &mut out); out.push_str("\">");
                }
                fence = true;
            }
            continue;
        }
        if fence { escape(raw, &mut out); out.push('\n'); continue; }
        let t = line.trim_start();
        if t.is_empty() { close(&mut block, &mut out); continue; }
        let level = t.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && t[level..].starts_with(' ') {
            close(&mut block, &mut out);
            out.push_str(&format!("<h{}>", level)); inline(t[level..].trim(), &mut out); out.push_str(&format!("</h{}>\n", level));
            continue;
        }
        if t.len() >= 3 && (t.chars().all(|c| c == '-') || t.chars().all(|c| c == '*')) {
            close(&mut block, &mut out);
            out.push_str("<hr>\n");
            continue;
        }
        if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            if block != Block::Ul { close(&mut block, &mut out); out.push_str("<ul>\n"); block = Block::Ul; }
            out.push_str("<li>"); inline(item.trim(), &mut out); out.push_str("</li>\n");
            continue;
        }
        if let Some(item) = ordered_item(t) {
            if block != Block::Ol { close(&mut block, &mut out); out.push_str("<ol>\n"); block = Block::Ol; }
            out.push_str("<li>"); inline(item.trim(), &mut out); out.push_str("</li>\n");
            continue;
        }
        if let Some(q) = t.strip_prefix('>') {
            if block != Block::Quote { close(&mut block, &mut out); out.push_str("<blockquote>\n"); block = Block::Quote; }
            out.push_str("<p>"); inline(q.trim(), &mut out); out.push_str("</p>\n");
            continue;
        }
        match block {
            Block::Para => out.push('\n'),
            _ => { close(&mut block, &mut out); out.push_str("<p>"); block = Block::Para; }
        }
        inline(t, &mut out);
    }
    if fence { out.push_str("</code></pre>\n"); }
    close(&mut block, &mut out);
    io::stdout().write_all(out.as_bytes()).unwrap_or_else(|_| std::process::exit(1));
}
