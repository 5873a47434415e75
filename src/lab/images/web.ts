// Static web servers: nginx (and nginxinc/nginx-unprivileged) and httpd, serving their default pages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANY_HOST, type Builtin, clfTime, httpServer, remoteIP, send, sentBytes, serveHttp } from './common.js';

export const NGINX_VERSION = '1.27.3';
export const HTTPD_VERSION = '2.4.62';

export const NGINX_WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

export const NGINX_50X = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
`;

function nginxError(status: number, reason: string): string {
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx/${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`;
}

function nginxImpl(defaultPort: number): Builtin {
  return async (_args, ctx) => {
    const server = httpServer(
      (req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        const base = { Server: `nginx/${NGINX_VERSION}` };
        const html = { ...base, 'Content-Type': 'text/html' };
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const page = path === '/' || path === '/index.html' ? NGINX_WELCOME : path === '/50x.html' ? NGINX_50X : undefined;
        if (page === undefined) return send(res, 404, nginxError(404, 'Not Found'), html);
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, nginxError(405, 'Not Allowed'), html);
        send(res, 200, page, { ...html, 'Accept-Ranges': 'bytes' });
      },
      // log_format main (the image's default): combined + "$http_x_forwarded_for"
      (req, res) => ctx.out(`${remoteIP(req)} - - [${clfTime()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${req.method === 'HEAD' ? 0 : sentBytes(res)} "${req.headers.referer ?? '-'}" "${req.headers['user-agent'] ?? '-'}" "${req.headers['x-forwarded-for'] ?? '-'}"`),
    );
    const running = await serveHttp(ctx, ANY_HOST, defaultPort, server);
    ctx.err(`/docker-entrypoint.sh: Configuration complete; ready for start up`);
    return running;
  };
}

/** nginx: the default site on port 80. */
export const nginx: Builtin = nginxImpl(80);
/** nginxinc/nginx-unprivileged: the default site on port 8080. */
export const nginxUnprivileged: Builtin = nginxImpl(8080);

export const HTTPD_INDEX = '<html><body><h1>It works!</h1></body></html>\n';

/** httpd: Apache's "It works!" page on port 80. */
export const httpd: Builtin = async (_args, ctx) => {
  const server = httpServer(
    (req, res) => {
      req.resume();
      const base = { Server: `Apache/${HTTPD_VERSION} (Unix)` };
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/' || path === '/index.html') {
        if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST') return send(res, 200, HTTPD_INDEX, { ...base, 'Content-Type': 'text/html', 'Accept-Ranges': 'bytes' });
        return send(res, 405, errorPage(405, 'Method Not Allowed', `The requested method ${req.method} is not allowed for this URL.`), { ...base, 'Content-Type': 'text/html; charset=iso-8859-1', Allow: 'POST,OPTIONS,HEAD,GET' });
      }
      send(res, 404, errorPage(404, 'Not Found', 'The requested URL was not found on this server.'), { ...base, 'Content-Type': 'text/html; charset=iso-8859-1' });
    },
    // common log format
    (req, res) => ctx.out(`${remoteIP(req)} - - [${clfTime()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${req.method === 'HEAD' ? '-' : sentBytes(res)}`),
  );
  const running = await serveHttp(ctx, ANY_HOST, 80, server);
  ctx.err(`[mpm_event:notice] AH00489: Apache/${HTTPD_VERSION} (Unix) configured -- resuming normal operations`);
  return running;
};

function errorPage(status: number, reason: string, text: string): string {
  return `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>${status} ${reason}</title>\n</head><body>\n<h1>${reason}</h1>\n<p>${text}</p>\n</body></html>\n`;
}
