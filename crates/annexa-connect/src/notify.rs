//! Telling people: a webhook (a JSON POST; its `text` field is what Slack and Teams
//! incoming webhooks show) and e-mail over SMTP. Both are best effort for the caller to
//! record: a failure is returned, never retried here.
//!
//! The SMTP client is a small one on purpose: it hands a plain-text message to a relay
//! (a local MTA or the organisation's mail relay on its network), which is what a server in
//! a data centre does; it speaks ESMTP without authentication or TLS, so the relay is what
//! talks to the outside world. Every read and write has a timeout, and header values are
//! refused if they could inject a header.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where e-mail goes.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub timeout: Duration,
}

/// An e-mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Posts `body` as JSON to `url`. An error never contains the URL.
pub fn post_webhook(url: &str, body: &serde_json::Value, timeout: Duration) -> Result<(), String> {
    let agent = ureq::AgentBuilder::new().timeout(timeout).redirects(0).build();
    match agent.post(url).set("Content-Type", "application/json").send_string(&body.to_string()) {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(status, _)) => Err(format!("the webhook answered HTTP {status}")),
        // Only the kind of failure: the URL of a webhook is often its secret (Slack's is), and
        // this message goes to logs.
        Err(ureq::Error::Transport(t)) => Err(format!("the webhook could not be reached ({})", t.kind())),
    }
}

/// Sends `mail` through the relay.
pub fn send_mail(smtp: &Smtp, mail: &Mail) -> Result<(), String> {
    for (what, value) in [("recipient", &mail.to), ("sender", &smtp.from), ("subject", &mail.subject)] {
        if value.contains(['\r', '\n']) || value.trim().is_empty() {
            return Err(format!("the {what} {value:?} is empty or spans lines"));
        }
    }
    if !mail.to.contains('@') {
        return Err(format!("{:?} is not an e-mail address", mail.to));
    }
    let stream =
        TcpStream::connect((smtp.host.as_str(), smtp.port)).map_err(|e| format!("cannot reach {}:{}: {e}", smtp.host, smtp.port))?;
    stream.set_read_timeout(Some(smtp.timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(smtp.timeout)).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    expect(&mut reader, 220)?;
    let domain = smtp.from.rsplit('@').next().unwrap_or("localhost");
    command(&mut writer, &mut reader, &format!("EHLO {domain}"), 250)?;
    command(&mut writer, &mut reader, &format!("MAIL FROM:<{}>", smtp.from), 250)?;
    command(&mut writer, &mut reader, &format!("RCPT TO:<{}>", mail.to), 250)?;
    command(&mut writer, &mut reader, "DATA", 354)?;
    let mut message = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        smtp.from, mail.to, mail.subject
    );
    for line in mail.body.lines() {
        // A line that starts with a dot would end the message early: doubled (RFC 5321 4.5.2).
        if line.starts_with('.') {
            message.push('.');
        }
        message.push_str(line);
        message.push_str("\r\n");
    }
    message.push_str(".\r\n");
    writer.write_all(message.as_bytes()).map_err(|e| format!("sending the message: {e}"))?;
    expect(&mut reader, 250)?;
    // The relay has the message; a failed goodbye changes nothing.
    let _ = command(&mut writer, &mut reader, "QUIT", 221);
    Ok(())
}

fn command(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, line: &str, want: u16) -> Result<(), String> {
    writer.write_all(format!("{line}\r\n").as_bytes()).map_err(|e| format!("sending {line:?}: {e}"))?;
    expect(reader, want).map_err(|e| format!("{}: {e}", line.split(':').next().unwrap_or(line)))
}

/// Reads one (possibly multi-line) reply and checks its code.
fn expect(reader: &mut BufReader<TcpStream>, want: u16) -> Result<(), String> {
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(|e| format!("reading the relay's reply: {e}"))?;
        if n == 0 {
            return Err("the relay closed the connection".into());
        }
        let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| format!("the relay said {:?}", line.trim_end()))?;
        // "250-..." continues; "250 ..." ends the reply.
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        return if code == want { Ok(()) } else { Err(format!("the relay answered {}", line.trim_end())) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A relay on loopback that accepts one message and returns what it received.
    fn sink() -> (u16, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut w = stream;
            let mut seen = String::new();
            w.write_all(b"220 sink ESMTP\r\n").expect("greet");
            let mut data = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                seen.push_str(&line);
                if data {
                    if line == ".\r\n" {
                        data = false;
                        w.write_all(b"250 queued\r\n").expect("queued");
                    }
                    continue;
                }
                let reply: &[u8] = match line.get(..4).unwrap_or("") {
                    "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        data = true;
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        w.write_all(b"221 bye\r\n").expect("bye");
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                w.write_all(reply).expect("reply");
            }
            seen
        });
        (port, handle)
    }

    #[test]
    fn a_message_reaches_the_relay_with_dots_stuffed_and_injection_refused() {
        let (port, relay) = sink();
        let smtp = Smtp { host: "127.0.0.1".into(), port, from: "annexa@example.org".into(), timeout: Duration::from_secs(5) };
        let mail = Mail { to: "ana@example.org".into(), subject: "3 items to review".into(), body: "Hello Ana\n.hidden line\nBye".into() };
        send_mail(&smtp, &mail).expect("sent");
        let seen = relay.join().expect("relay");
        assert!(seen.contains("RCPT TO:<ana@example.org>\r\n"), "{seen}");
        assert!(seen.contains("Subject: 3 items to review\r\n"), "{seen}");
        assert!(seen.contains("\r\n..hidden line\r\n"), "{seen}");
        let bad = Mail { subject: "x\r\nBcc: everyone@example.org".into(), ..mail };
        assert!(send_mail(&smtp, &bad).expect_err("refused").contains("spans lines"));
        let nobody = Smtp { port: 9, ..smtp };
        assert!(send_mail(&nobody, &Mail { to: "a@b.c".into(), subject: "s".into(), body: String::new() }).is_err());
    }
}
