/** Text that members, clients or lease holders reported, made safe for logs, status and an admin's terminal. */
package io.meshfed.controller.text;
