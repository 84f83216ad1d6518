"""HTTP as API Gateway delivers it: requests, responses, form parsing, the route table,
CORS, the HTML pages and the one dispatch path."""
